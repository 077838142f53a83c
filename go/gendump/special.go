package main

// Fixed goroutines: the profiler's own goroutine, goroutine 1 and the
// runtime's system goroutines (SIGQUIT only).

func (m *Model) special1(state string, specs []fs, created *fs, ctx int) *Shape {
	sh := &Shape{State: state, Ctx: ctx, System: ctx == ctxSystem}
	sh.Frames = m.resolve(specs)
	if created != nil {
		sh.Created = m.resolve([]fs{*created})[0]
	}
	m.special = append(m.special, sh)
	return sh
}

func (m *Model) buildSpecial() {
	hf := m.rt("net/http.HandlerFunc.ServeHTTP", "net/http/server.go", 2358, 0x29, "t,{t,p},p")
	tail := []fs{
		m.rt("runtime/pprof.(*Profile).WriteTo", "runtime/pprof/pprof.go", 405, 0x149, "p,{t,p},k"),
		m.rt("net/http/pprof.handler.ServeHTTP", "net/http/pprof/pprof.go", 272, 0x554, "{p,k},{t,p},p"),
		m.rt("net/http/pprof.Index", "net/http/pprof/pprof.go", 391, 0xdc, "{t,p},p"),
		hf,
		m.rt("net/http.(*ServeMux).ServeHTTP", "net/http/server.go", 2923, 0x1cf, "p,{t,p},p"),
		m.rt("net/http.serverHandler.ServeHTTP", "net/http/server.go", 3436, 0x8e, "{p},{t,p},p"),
		m.rt("net/http.(*conn).serve", "net/http/server.go", 2157, 0x6dc, "p,{t,p}"),
	}
	serve := m.rt("net/http.(*Server).Serve", "net/http/server.go", 3604, 0x4fd, "")
	p2 := append([]fs{
		m.rt("runtime/pprof.writeGoroutineStacks", "runtime/pprof/pprof.go", 816, 0x69, "{t,p}"),
		m.rt("runtime/pprof.writeGoroutine", "runtime/pprof/pprof.go", 779, 0x25, "{t,p},p"),
	}, tail...)
	m.sp.prof2 = m.special1("running", p2, &serve, ctxStdConn)
	p01 := append([]fs{
		m.rt("runtime.goroutineProfileWithLabels", "runtime/mprof.go", 1379, 0x51, "{p,i,i},{p,i,i}"),
		m.rt("runtime.pprof_goroutineProfileWithLabels", "runtime/mprof.go", 1350, 0x1d, "{p,i,i},{p,i,i}"),
		m.rt("runtime/pprof.writeRuntimeProfile", "runtime/pprof/pprof.go", 848, 0xb1, "{t,p},k,{t,k},t"),
		m.rt("runtime/pprof.writeGoroutine", "runtime/pprof/pprof.go", 781, 0x45, "{t,p},p"),
	}, tail...)
	m.sp.prof01 = m.special1("running", p01, &serve, ctxStdConn)

	mainFile := appRoot + "cmd/shop-api/main.go"
	if m.wide {
		mainFile = wideRoot + "cmd/fulfillment/main.go"
	}
	mainf := m.fn("main.main", mainFile, "")
	mainf.StartLine = 33
	run := m.fn("main.run", mainFile, "{t,p},p")
	run.StartLine = 74
	m.sp.main = m.special1("chan receive", []fs{
		m.rt("runtime.gopark", "runtime/proc.go", 474, 0xca, "p,p,k,k,p"),
		m.rt("runtime.chanrecv", "runtime/chan.go", 667, 0x4ae, "p,z,k"),
		m.rt("runtime.chanrecv1", "runtime/chan.go", 509, 0x12, "t,k"),
		{f: run, line: 188},
		{f: mainf, line: 41},
		m.rt("runtime.main", "runtime/proc.go", 302, 0x427, ""),
	}, nil, ctxMain)

	gopark := func() fs { return m.rt("runtime.gopark", "runtime/proc.go", 474, 0xca, "p,p,k,k,p") }
	pu := func() fs { return m.rti("runtime.goparkunlock", "runtime/proc.go", 480) }
	sys := func(id uint64, state string, specs []fs, cr fs) {
		sh := m.special1(state, specs, &cr, ctxSystem)
		m.sp.sys = append(m.sp.sys, sh)
		m.sp.sysIDs = append(m.sp.sysIDs, id)
	}
	sys(2, "force gc (idle)", []fs{gopark(), pu(), m.rt("runtime.forcegchelper", "runtime/proc.go", 387, 0xb3, "")},
		m.rt("runtime.init.7", "runtime/proc.go", 375, 0x1a, ""))
	sys(3, "GC sweep wait", []fs{gopark(), pu(), m.rt("runtime.bgsweep", "runtime/mgcsweep.go", 324, 0x151, "p"),
		m.rt("runtime.gcenable.gowrap1", "runtime/mgc.go", 214, 0x17, "")},
		m.rt("runtime.gcenable", "runtime/mgc.go", 214, 0x66, ""))
	sys(4, "GC scavenge wait", []fs{gopark(), pu(), m.rt("runtime.(*scavengerState).park", "runtime/mgcscavenge.go", 425, 0x49, "t"),
		m.rt("runtime.bgscavenge", "runtime/mgcscavenge.go", 658, 0x59, "p"),
		m.rt("runtime.gcenable.gowrap2", "runtime/mgc.go", 215, 0x17, "")},
		m.rt("runtime.gcenable", "runtime/mgc.go", 215, 0xa5, ""))
	sys(17, "GOMAXPROCS updater (idle)", []fs{gopark(), pu(), m.rt("runtime.updateMaxProcsGoroutine", "runtime/proc.go", 7146, 0xe7, "")},
		m.rt("runtime.defaultGOMAXPROCSUpdateEnable", "runtime/proc.go", 7134, 0x37, ""))
	sys(18, "finalizer wait", []fs{gopark(), m.rt("runtime.runFinalizers", "runtime/mfinal.go", 210, 0x107, "")},
		m.rt("runtime.createfing", "runtime/mfinal.go", 172, 0x3d, ""))
	sys(19, "cleanup wait", []fs{gopark(), pu(), m.rt("runtime.(*cleanupQueue).dequeue", "runtime/mcleanup.go", 522, 0xd3, "t"),
		m.rt("runtime.runCleanups", "runtime/mcleanup.go", 718, 0x45, "")},
		m.rt("runtime.(*cleanupQueue).createGs", "runtime/mcleanup.go", 672, 0xa5, ""))
	for k := uint64(0); k < 8; k++ {
		sys(49+k, "GC worker (idle)", []fs{gopark(), m.rt("runtime.gcBgMarkWorker", "runtime/mgc.go", 1807, 0xeb, "p"),
			m.rt("runtime.gcBgMarkStartWorkers.gowrap1", "runtime/mgc.go", 1711, 0x17, "")},
			m.rt("runtime.gcBgMarkStartWorkers", "runtime/mgc.go", 1711, 0xfc, ""))
	}
}

const sigquitPreamble = `SIGQUIT: quit
PC=0x493101 m=0 sigcode=0

goroutine 0 gp=0xb2f380 m=0 mp=0xb30320 [idle]:
runtime.futex(0xb30478, 0x80, 0x0, 0x0, 0x0, 0x0)
	/usr/local/go/src/runtime/sys_linux_amd64.s:575 +0x21 fp=0x7ffec6f9a550 sp=0x7ffec6f9a548 pc=0x493101
runtime.futexsleep(0xb2f380?, 0x456534?, 0x7ffec6f9a5c8?)
	/usr/local/go/src/runtime/os_linux.go:73 +0x30 fp=0x7ffec6f9a5a0 sp=0x7ffec6f9a550 pc=0x44b2d0
runtime.notesleep(0xb30478)
	/usr/local/go/src/runtime/lock_futex.go:47 +0x87 fp=0x7ffec6f9a5d8 sp=0x7ffec6f9a5a0 pc=0x41d8e7
runtime.mPark(...)
	/usr/local/go/src/runtime/proc.go:1985
runtime.stoplockedm()
	/usr/local/go/src/runtime/proc.go:3278 +0x73 fp=0x7ffec6f9a630 sp=0x7ffec6f9a5d8 pc=0x4565d3
runtime.schedule()
	/usr/local/go/src/runtime/proc.go:4158 +0x3a fp=0x7ffec6f9a670 sp=0x7ffec6f9a630 pc=0x458b1a
runtime.park_m(0x1e56b86432c0)
	/usr/local/go/src/runtime/proc.go:4319 +0x279 fp=0x7ffec6f9a6d0 sp=0x7ffec6f9a670 pc=0x459019
runtime.mcall()
	/usr/local/go/src/runtime/asm_amd64.s:463 +0x53 fp=0x7ffec6f9a6e8 sp=0x7ffec6f9a6d0 pc=0x48fbb3
`

const sigquitRegs = `
rax    0xca
rbx    0x0
rcx    0x493103
rdx    0x0
rdi    0xb30478
rsi    0x80
rbp    0x7ffec6f9a590
rsp    0x7ffec6f9a548
r8     0x0
r9     0x0
r10    0x0
r11    0x286
r12    0x458da0
r13    0x0
r14    0xb2f380
r15    0xf9
rip    0x493101
rflags 0x286
cs     0x33
fs     0x0
gs     0x0
`
