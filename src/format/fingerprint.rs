//! Hashes trusted as keys: 96 bits of XXH3-128 under a secret drawn at random when the
//! process starts.
//!
//! The text parser looks up every frame line, every goroutine's stack and every header's
//! label text (`text::Parser::intern_labels`). On a dump of many call sites (issue 14:
//! 20,000 frames, 15,500 stacks in the wide 1M bench dump) the keys and stored stacks are
//! several megabytes against a 1 MiB L2 cache, and comparing a key with the stored one
//! waits on memory each time. A lookup that compares 96 bits of hash (and, for frames, the
//! two lengths) reads one slot instead.
//!
//! What that trusts: two distinct keys share the 96 bits with a chance of 2^-96 (2^-64 for
//! frame keys of one file line and distinct function names, see `text::FrameCache::hash`).
//! A dump of a million distinct stacks makes 2^39 pairs: a false match once in 2^57 such
//! dumps. The secret is unknown outside the process, so a crafted dump has no better odds,
//! and cannot crowd the slots a lookup probes (issue 15). The same bits also place the
//! key, so tables never compare and never read a key on the common path.

use crate::model::StackId;
use rustc_hash::FxHashMap;
use std::sync::OnceLock;
use xxhash_rust::xxh3::xxh3_128_with_secret;

/// XXH3's secret, of its default length, from the standard library's per-process random
/// keys.
pub(crate) fn secret() -> &'static [u8; 192] {
    static SECRET: OnceLock<[u8; 192]> = OnceLock::new();
    SECRET.get_or_init(|| {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new();
        let mut secret = [0u8; 192];
        for (i, word) in secret.chunks_exact_mut(8).enumerate() {
            word.copy_from_slice(&random.hash_one(i).to_le_bytes());
        }
        secret
    })
}

/// 96 bits of a hash: `low` places a key in a table, `high` tells it from the others.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Fingerprint {
    pub low: u32,
    pub high: u64,
}

impl Fingerprint {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let h = xxh3_128_with_secret(bytes, secret());
        Fingerprint { low: h as u32, high: (h >> 64) as u64 }
    }
}

/// A goroutine's frames → the id of that stack in the snapshot's table, by the stack's
/// [`Fingerprint`], in front of [`crate::model::Stacks`] (which compares each stack it is
/// asked for with the stored one: two reads from memory and a `memcmp`, 15% of the wide 1M
/// dump's time).
#[derive(Default)]
pub(crate) struct StackCache {
    ids: FxHashMap<Fingerprint, StackId>,
    hits: usize,
}

/// Stacks held before the cache asks whether it pays: a dump of distinct stacks (issue 15)
/// finds none, and would only grow the cache.
const UNTESTED_STACKS: usize = 1024;

impl StackCache {
    /// The stack's id if it was seen, else `intern`'s (which then is remembered, while the
    /// cache pays and stays within `max_bytes`).
    #[inline]
    pub(crate) fn get_or_intern(
        &mut self,
        stack: &[u32],
        max_bytes: usize,
        intern: impl FnOnce(&[u32]) -> StackId,
    ) -> StackId {
        let fp = Fingerprint::of(bytemuck::cast_slice(stack));
        if let Some(&id) = self.ids.get(&fp) {
            self.hits += 1;
            return id;
        }
        let id = intern(stack);
        let len = self.ids.len();
        let pays = len < UNTESTED_STACKS || self.hits >= len / 8;
        // A full table doubles: within budget if twice its entries' bytes fit.
        let fits = len < self.ids.capacity() || 2 * self.heap_bytes() <= max_bytes;
        if pays && fits {
            self.ids.insert(fp, id);
        }
        id
    }

    /// About what the map holds: its entries and a control byte each.
    fn heap_bytes(&self) -> usize {
        self.ids.capacity() * (std::mem::size_of::<(Fingerprint, StackId)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stack gets the id its first sighting got, through growth, and the cache
    /// stops holding stacks where none repeats.
    #[test]
    fn a_stack_seen_again_gets_its_id() {
        let mut cache = StackCache::default();
        let mut ids = std::collections::HashMap::new();
        let mut intern = |s: &[u32]| {
            let next = ids.len() as StackId;
            *ids.entry(s.to_vec()).or_insert(next)
        };
        let stacks: Vec<Vec<u32>> =
            (0..5000u32).map(|i| std::iter::once(i).chain((0..i % 40).map(|f| f * 7)).collect()).collect();
        for round in 0..3 {
            for (i, s) in stacks.iter().enumerate() {
                let id = cache.get_or_intern(s, 1 << 20, &mut intern);
                assert_eq!(id as usize, i, "stack {i}, round {round}");
            }
        }
        assert!(cache.hits >= 2 * UNTESTED_STACKS, "the first stacks held: {} hits", cache.hits);

        let mut distinct = StackCache::default();
        let mut n = 0;
        for i in 0..20000u32 {
            distinct.get_or_intern(&[i, i + 1], 1 << 20, |_| {
                n += 1;
                n - 1
            });
        }
        assert!(distinct.ids.len() < 2 * UNTESTED_STACKS, "stopped growing: {} stacks held", distinct.ids.len());
        assert!(distinct.heap_bytes() <= 1 << 20);
    }

    #[test]
    fn fingerprints_differ_with_every_byte() {
        let base = Fingerprint::of(b"main.(*server).handle/app/server.go:12 +0x1d");
        let mut seen = std::collections::HashSet::new();
        seen.insert((base.low, base.high));
        let text = b"main.(*server).handle/app/server.go:12 +0x1d";
        for i in 0..text.len() {
            let mut t = text.to_vec();
            t[i] ^= 1;
            let f = Fingerprint::of(&t);
            assert!(seen.insert((f.low, f.high)), "byte {i}");
        }
    }
}
