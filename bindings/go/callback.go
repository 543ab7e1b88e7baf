package jetl

/*
#include <jetl.h>
uint64_t jetl_go_thread(void);
*/
import "C"

import "runtime/cgo"

// jetlGoProgress is called by the C trampoline (progress.c) on the thread
// of the call, so on the calling goroutine. It cancels the call when the
// call's context is done (checked before and after the Go callback, which
// may itself cancel the context), or when the callback returns true. A panic
// must not unwind through C frames: it is caught, the call is cancelled, and
// withProgress re-raises it once the C call has returned.
//
//export jetlGoProgress
func jetlGoProgress(p *C.jetl_progress, handle C.uintptr_t) (cancel C.int) {
	st, ok := cgo.Handle(handle).Value().(*callState)
	if !ok || st.panicked {
		return 1
	}
	if st.ctxDone() {
		return 1
	}
	if st.fn != nil && st.callFn(p) {
		return 1
	}
	if st.ctxDone() {
		return 1
	}
	return 0
}

// ctxDone records the context's error when the context is done.
func (st *callState) ctxDone() bool {
	if st.ctx == nil {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		st.ctxErr = err
		return true
	}
	return false
}

// callFn runs the Go callback with the Client marked as inside it, so that
// a call on the same Client from the callback fails instead of deadlocking.
func (st *callState) callFn(p *C.jetl_progress) (cancel bool) {
	st.c.cbThread.Store(uint64(C.jetl_go_thread()))
	defer func() {
		st.c.cbThread.Store(0)
		if r := recover(); r != nil {
			st.panicked, st.panicVal = true, r
			cancel = true
		}
	}()
	ev := Progress{
		JobID: int64(p.job_id), Phase: Phase(p.phase), Step: int(p.step),
		TotalSteps: int(p.total_steps), Done: int64(p.done), Total: int64(p.total),
		Elapsed: seconds(p.elapsed),
	}
	if p.project_key != nil {
		ev.ProjectKey = C.GoString(p.project_key)
	}
	if p.phase_name != nil {
		ev.PhaseName = C.GoString(p.phase_name)
	} else {
		ev.PhaseName = ev.Phase.String()
	}
	if p.message != nil {
		ev.Message = C.GoString(p.message)
	}
	return st.fn(ev)
}
