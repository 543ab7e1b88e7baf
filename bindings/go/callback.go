package jetl

/*
#include <jetl.h>
*/
import "C"

import "runtime/cgo"

// jetlGoProgress is called by the C trampoline (progress.c) on the thread
// of the call, so on the calling goroutine. A panic must not unwind through
// C frames: it is caught, the call is cancelled, and withProgress re-raises
// it once the C call has returned.
//
//export jetlGoProgress
func jetlGoProgress(p *C.jetl_progress, handle C.uintptr_t) (cancel C.int) {
	st, ok := cgo.Handle(handle).Value().(*callState)
	if !ok || st.panicked {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			st.panicked, st.panicVal = true, r
			cancel = 1
		}
	}()
	ev := Progress{
		JobID: int64(p.job_id), Phase: int(p.phase), Step: int(p.step),
		TotalSteps: int(p.total_steps), Done: int64(p.done), Total: int64(p.total),
		Elapsed: float64(p.elapsed),
	}
	if p.project_key != nil {
		ev.ProjectKey = C.GoString(p.project_key)
	}
	if p.phase_name != nil {
		ev.PhaseName = C.GoString(p.phase_name)
	} else {
		ev.PhaseName = PhaseName(ev.Phase)
	}
	if p.message != nil {
		ev.Message = C.GoString(p.message)
	}
	if st.fn(ev) {
		return 1
	}
	return 0
}
