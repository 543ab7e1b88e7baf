/*
 * progress.c - the C side of the Go progress callback.
 *
 * cgo forbids C definitions in a Go file that has //export functions, so the
 * trampoline lives here. The userdata is a runtime/cgo.Handle (an integer),
 * converted to and from void * in C, where that is well defined, and never
 * through unsafe.Pointer in Go.
 */
#include <pthread.h>
#include <stdint.h>
#include <jetl.h>
#include "_cgo_export.h"

static int jetl_go_progress(const jetl_progress *p, void *userdata)
{
	return jetlGoProgress((jetl_progress *)p, (uintptr_t)userdata);
}

void jetl_go_extract_progress(jetl_extract_options *o, uintptr_t handle)
{
	o->progress = jetl_go_progress;
	o->progress_userdata = (void *)handle;
}

void jetl_go_worker_progress(jetl_worker_options *o, uintptr_t handle)
{
	o->progress = jetl_go_progress;
	o->progress_userdata = (void *)handle;
}

/*
 * The calling OS thread, to recognise a call made from a progress callback
 * (which runs on the thread of the C call). pthread_t is an integer or a
 * pointer on the platforms libjetl builds on.
 */
uint64_t jetl_go_thread(void)
{
	return (uint64_t)(uintptr_t)pthread_self();
}
