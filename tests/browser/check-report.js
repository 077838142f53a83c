// Loads a goroscope HTML report in Debian's Chromium (driven by playwright-core; no
// browser is downloaded), uses it as a person would, and prints what it found as one JSON
// object for tests/html_report.rs to judge: the rows in order, the chart's points, what
// the filter hides, what a click shows, any script error or network request, and whether
// a screenshot of it has anything drawn.
//
// Usage: node tests/browser/check-report.js REPORT.html [--filter WORD] [--screenshot OUT.png]
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function main() {
  const args = process.argv.slice(2);
  const file = path.resolve(args[0]);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : null; };
  const url = /^https?:/.test(args[0]) ? args[0] : 'file://' + file;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS });
  const out = { errors: [], requests: [], dialogs: 0 };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (e) => out.errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
    page.on('request', (r) => { if (r.url() !== url) out.requests.push(r.url()); });
    page.on('dialog', (d) => { out.dialogs++; d.dismiss(); });
    await page.goto(url, { waitUntil: 'load', timeout: 30000 });

    Object.assign(out, await page.evaluate(() => {
      const rows = [...document.querySelectorAll('tr.row')];
      return {
        title: document.title,
        rows: rows.length,
        sites: rows.map((r) => {
          const s = r.querySelector('.site');
          return { text: s ? s.textContent : '', suspect: r.classList.contains('suspect'), hot: r.classList.contains('hot') };
        }),
        points: document.querySelectorAll('svg.total circle.pt').length,
        sparklines: document.querySelectorAll('svg.sp').length,
        histogramBars: document.querySelectorAll('svg.hist rect').length,
        pwned: window.pwned === undefined ? null : String(window.pwned),
        images: document.querySelectorAll('img').length,
        scripts: document.querySelectorAll('script').length,
      };
    }));

    // A click on the first row opens its details; a second click closes them.
    const first = page.locator('tr.row').first();
    if (out.rows > 0) {
      await first.click();
      out.detail = await page.evaluate(() => {
        const d = document.querySelector('tr.detail');
        return d ? { text: d.textContent, frames: d.querySelectorAll('ol.stack li').length } : null;
      });
      await first.click();
      out.detailAfterSecondClick = await page.locator('tr.detail').count();
    }

    const word = opt('--filter');
    if (word) {
      await page.fill('#filter', word);
      out.filter = await page.evaluate((w) => {
        const rows = [...document.querySelectorAll('tr.row')];
        const visible = rows.filter((r) => !r.hidden && r.offsetParent !== null);
        return {
          visible: visible.length,
          hidden: rows.length - visible.length,
          allMatch: visible.every((r) => (r.querySelector('.site').textContent + ' ' + r.querySelector('.cat').textContent).toLowerCase().includes(w.toLowerCase())),
          counter: document.getElementById('shown').textContent,
        };
      }, word);
      await page.fill('#filter', '');
      out.visibleAfterClear = await page.evaluate(() => [...document.querySelectorAll('tr.row')].filter((r) => !r.hidden).length);
    }

    const shot = opt('--screenshot');
    if (shot) {
      await page.screenshot({ path: shot, fullPage: false });
      // Blank or not, judged by the browser itself: draw the PNG on a canvas, count pixels.
      const png = require('fs').readFileSync(shot).toString('base64');
      const probe = await browser.newPage();
      out.screenshot = await probe.evaluate(async (b64) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let ink = 0; const colors = new Set();
        for (let i = 0; i < px.length; i += 4) {
          if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) ink++;
          if (colors.size < 5000) colors.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
        }
        return { width: c.width, height: c.height, inkFraction: ink / (c.width * c.height), colors: colors.size };
      }, png);
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
