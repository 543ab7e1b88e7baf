/*
 * jetl.i - the SWIG interface over the public C API (include/jetl.h).
 *
 * One interface for the scripting bindings. What it does to the C surface:
 *   - the jetl_ prefix is stripped (jetl_migrate -> migrate);
 *   - `out` pointers (jetl_ctx **out, int64_t *job_id, result structs) become
 *     return values; the status of a call that succeeded is dropped;
 *   - a negative status raises: the exception object is built by a factory
 *     the language layer registers (jetl/__init__.py maps each status to a
 *     jetl.Error subclass) from the status and the C message
 *     (jetl_last_error, or jetl_open_err's errbuf);
 *   - the progress callback + userdata pair of the options structs is a
 *     Python callable, called through a trampoline that takes the GIL;
 *     returning True cancels, and an exception it raises cancels the C call
 *     and is re-raised from the call that was running;
 *   - every C call runs with the GIL released (swig -threads), except the
 *     few helpers below marked %nothread because they build Python objects.
 *
 * Options structs are passed from the language layer as dicts (the keyword
 * arguments), so no borrowed C string outlives its Python object: every
 * pointer handed to C comes from an object the argument tuple holds for the
 * whole call.
 *
 * The Go binding is hand-written cgo (bindings/go): see its README for why.
 */
%module(package="jetl", docstring="Low-level jetl binding; use the jetl package.") jetl_c

%{
#include <string.h>
#include <jetl.h>
%}

%include <stdint.i>

/* ------------------------------------------------------------------ names */
%rename("%(strip:[jetl_])s") "";

/* The language layer builds these from keyword arguments. */
%ignore jetl_options;
%ignore jetl_options_init;
%ignore jetl_open;
%ignore jetl_open_err;
%ignore jetl_extract_options;
%ignore jetl_extract_options_init;
%ignore jetl_extract_result;
%ignore jetl_transform_result;
%ignore jetl_worker_options;
%ignore jetl_worker_options_init;
%ignore jetl_job;
%ignore jetl_progress;
%ignore jetl_progress_cb;
%ignore jetl_log_cb;
%ignore jetl_field_info;
%ignore jetl_field_cb;
/* The configuration file fills a jetl_options, which the language layer
 * builds from keyword arguments instead (not wrapped yet). */
%ignore jetl_config;
%ignore jetl_config_load;
%ignore jetl_config_get;
%ignore jetl_config_apply;
%ignore jetl_config_free;

#ifdef SWIGPYTHON
/* ------------------------------------------------------- Python plumbing */
%{
/* Registered once by jetl/__init__.py; strong references for the process. */
static PyObject *jetl_py_error_factory;   /* f(status, message) -> exception */
static PyObject *jetl_py_progress_type;   /* Progress(**fields) */

static PyObject *jetl_py_str(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	/* C messages are UTF-8; never let a stray byte hide the real error. */
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* Set the Python error for a negative status. Needs the GIL. */
static void jetl_py_raise(int status, const char *message)
{
	PyObject *msg, *exc;

	if (!message || !*message)
		message = jetl_strerror(status);
	msg = jetl_py_str(message);
	if (!msg)
		return;
	if (!jetl_py_error_factory) {
		PyErr_Format(PyExc_RuntimeError, "%s: %U", jetl_status_name(status), msg);
		Py_DECREF(msg);
		return;
	}
	exc = PyObject_CallFunction(jetl_py_error_factory, "iO", status, msg);
	Py_DECREF(msg);
	if (exc) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
}

/*
 * State of one call that takes a progress callback. Lives on the wrapper's
 * stack for the call; holds no reference to the callable (the argument dict
 * does) but owns the exception the callable raised, until it is re-raised
 * or the call is torn down.
 */
typedef struct jetl_pycb {
	PyObject *callable;      /* borrowed; NULL: no callback */
	PyObject *exc_type, *exc_value, *exc_tb;
} jetl_pycb;

/*
 * Set where the wrapper declares it, not in the typemap's body: when an
 * argument before the options fails to convert, the wrapper jumps to its
 * cleanup, which clears this struct although the options typemap never ran
 * (a memset there left it as stack garbage, and the clear decref'd it).
 */
#define JETL_PYCB_INIT { NULL, NULL, NULL, NULL }

static int jetl_py_set_int(PyObject *dict, const char *key, int64_t v)
{
	PyObject *o = PyLong_FromLongLong((long long)v);
	int rc = o ? PyDict_SetItemString(dict, key, o) : -1;
	Py_XDECREF(o);
	return rc;
}

static int jetl_py_set_float(PyObject *dict, const char *key, double v)
{
	PyObject *o = PyFloat_FromDouble(v);
	int rc = o ? PyDict_SetItemString(dict, key, o) : -1;
	Py_XDECREF(o);
	return rc;
}

static int jetl_py_set_str(PyObject *dict, const char *key, const char *v)
{
	PyObject *o = jetl_py_str(v);
	int rc = o ? PyDict_SetItemString(dict, key, o) : -1;
	Py_XDECREF(o);
	return rc;
}

static PyObject *jetl_py_progress_fields(const jetl_progress *p)
{
	PyObject *d = PyDict_New();

	if (!d)
		return NULL;
	if (jetl_py_set_int(d, "phase", p->phase) < 0 ||
	    jetl_py_set_str(d, "phase_name", p->phase_name ? p->phase_name : jetl_phase_name(p->phase)) < 0 ||
	    jetl_py_set_int(d, "done", p->done) < 0 ||
	    jetl_py_set_int(d, "total", p->total) < 0 ||
	    jetl_py_set_int(d, "job_id", p->job_id) < 0 ||
	    jetl_py_set_str(d, "project_key", p->project_key) < 0 ||
	    jetl_py_set_int(d, "step", p->step) < 0 ||
	    jetl_py_set_int(d, "total_steps", p->total_steps) < 0 ||
	    jetl_py_set_str(d, "message", p->message ? p->message : "") < 0 ||
	    jetl_py_set_float(d, "elapsed", p->elapsed) < 0) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

/* The C progress callback: runs on the calling thread, which let the GIL go. */
static int jetl_py_progress(const jetl_progress *p, void *userdata)
{
	jetl_pycb *cb = userdata;
	PyGILState_STATE gil;
	PyObject *fields, *empty = NULL, *event = NULL, *ret = NULL;
	int cancel = 1;

	if (!cb || !cb->callable)
		return 0;
	gil = PyGILState_Ensure();
	if (cb->exc_type) /* already failed: keep cancelling */
		goto out;
	fields = jetl_py_progress_fields(p);
	if (fields) {
		if (jetl_py_progress_type) {
			empty = PyTuple_New(0);
			if (empty)
				event = PyObject_Call(jetl_py_progress_type, empty, fields);
			Py_XDECREF(empty);
			Py_DECREF(fields);
		} else {
			event = fields;
		}
	}
	if (event)
		ret = PyObject_CallOneArg(cb->callable, event);
	Py_XDECREF(event);
	if (ret) {
		int t = PyObject_IsTrue(ret);
		Py_DECREF(ret);
		if (t >= 0)
			cancel = t;
	}
	if (PyErr_Occurred())
		PyErr_Fetch(&cb->exc_type, &cb->exc_value, &cb->exc_tb);
out:
	PyGILState_Release(gil);
	return cancel ? 1 : 0;
}

/* After the C call: re-raise what the callback raised. 1 if it did. */
static int jetl_pycb_reraise(jetl_pycb *cb)
{
	if (!cb || !cb->exc_type)
		return 0;
	PyErr_Restore(cb->exc_type, cb->exc_value, cb->exc_tb);
	cb->exc_type = cb->exc_value = cb->exc_tb = NULL;
	return 1;
}

static void jetl_pycb_clear(jetl_pycb *cb)
{
	Py_CLEAR(cb->exc_type);
	Py_CLEAR(cb->exc_value);
	Py_CLEAR(cb->exc_tb);
}

/* Read an optional int/bool/str/callable from the options dict. */
static int jetl_py_opt_int(PyObject *d, const char *key, int *out)
{
	PyObject *v = PyDict_GetItemString(d, key); /* borrowed */
	long x;

	if (!v || v == Py_None)
		return 0;
	if (PyBool_Check(v)) {
		*out = v == Py_True;
		return 0;
	}
	x = PyLong_AsLong(v);
	if (x == -1 && PyErr_Occurred())
		return -1;
	if (x < INT32_MIN || x > INT32_MAX) {
		PyErr_Format(PyExc_OverflowError, "%s out of range", key);
		return -1;
	}
	*out = (int)x;
	return 0;
}

static int jetl_py_opt_str(PyObject *d, const char *key, const char **out)
{
	PyObject *v = PyDict_GetItemString(d, key);

	if (!v || v == Py_None)
		return 0;
	if (!PyUnicode_Check(v)) {
		PyErr_Format(PyExc_TypeError, "%s must be a str", key);
		return -1;
	}
	/* Cached in the str object, which the argument dict keeps alive. */
	*out = PyUnicode_AsUTF8(v);
	return *out ? 0 : -1;
}

static int jetl_py_opt_callback(PyObject *d, jetl_pycb *cb)
{
	PyObject *v = PyDict_GetItemString(d, "progress");

	if (!v || v == Py_None)
		return 0;
	if (!PyCallable_Check(v)) {
		PyErr_SetString(PyExc_TypeError, "progress must be callable");
		return -1;
	}
	cb->callable = v;
	return 0;
}

static int jetl_py_check_dict(PyObject *o, const char *what)
{
	if (o == Py_None || PyDict_Check(o))
		return 0;
	PyErr_Format(PyExc_TypeError, "%s must be a dict or None", what);
	return -1;
}

#if PY_VERSION_HEX >= 0x030D0000
#define jetl_py_finalizing() Py_IsFinalizing()
#else
#define jetl_py_finalizing() _Py_IsFinalizing()
#endif

static void jetl_py_log(int level, const char *message, void *userdata)
{
	PyGILState_STATE gil;
	PyObject *ret;

	/* Logging may come from worker threads; the interpreter may be gone. */
	if (!userdata || jetl_py_finalizing())
		return;
	gil = PyGILState_Ensure();
	ret = PyObject_CallFunction((PyObject *)userdata, "iN", level, jetl_py_str(message));
	if (ret)
		Py_DECREF(ret);
	else
		PyErr_WriteUnraisable((PyObject *)userdata);
	PyGILState_Release(gil);
}
%}

/* ------------------------------------------------------------- typemaps */

/* Outputs: the status is dropped, the out values are returned. */
%typemap(in, numinputs=0) jetl_ctx **out (jetl_ctx *tmp = NULL) { $1 = &tmp; }
%typemap(argout) jetl_ctx **out {
	$result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $*1_descriptor, 0));
}

%typemap(in, numinputs=0) int64_t *job_id (int64_t tmp = 0), int64_t *count (int64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) int64_t *job_id, int64_t *count {
	$result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong((long long)*$1));
}

/* A message buffer for jetl_py_open (below). */
%typemap(in, numinputs=0) (char *errbuf, size_t errbuf_size) (char buf[512]) {
	buf[0] = '\0';
	$1 = buf;
	$2 = sizeof(buf);
}

%typemap(in, numinputs=0) jetl_extract_result *result (jetl_extract_result r) {
	memset(&r, 0, sizeof(r));
	r.version = JETL_EXTRACT_RESULT_VERSION;
	$1 = &r;
}
%typemap(argout) jetl_extract_result *result {
	PyObject *d = PyDict_New();
	if (!d ||
	    jetl_py_set_int(d, "job_id", $1->job_id) < 0 ||
	    jetl_py_set_int(d, "issues", $1->issues) < 0 ||
	    jetl_py_set_int(d, "histories", $1->histories) < 0 ||
	    jetl_py_set_int(d, "changelogs_completed", $1->changelogs_completed) < 0 ||
	    jetl_py_set_int(d, "dev_status_fetched", $1->dev_status_fetched) < 0 ||
	    jetl_py_set_int(d, "deleted", $1->deleted) < 0 ||
	    jetl_py_set_int(d, "raw_rows", $1->raw_rows) < 0 ||
	    jetl_py_set_int(d, "transformed", $1->transformed) < 0 ||
	    jetl_py_set_int(d, "requests", $1->requests) < 0 ||
	    jetl_py_set_int(d, "retries", $1->retries) < 0 ||
	    jetl_py_set_int(d, "rate_limited", $1->rate_limited) < 0 ||
	    jetl_py_set_float(d, "seconds", $1->seconds) < 0) {
		Py_XDECREF(d);
		SWIG_fail;
	}
	$result = SWIG_Python_AppendOutput($result, d);
}

%typemap(in, numinputs=0) jetl_transform_result *result (jetl_transform_result r) {
	memset(&r, 0, sizeof(r));
	r.version = JETL_TRANSFORM_RESULT_VERSION;
	$1 = &r;
}
%typemap(argout) jetl_transform_result *result {
	PyObject *d = PyDict_New();
	if (!d ||
	    jetl_py_set_int(d, "raw_id", $1->raw_id) < 0 ||
	    jetl_py_set_int(d, "work_items", $1->work_items) < 0 ||
	    jetl_py_set_int(d, "changelog_items", $1->changelog_items) < 0 ||
	    jetl_py_set_int(d, "dev_status", $1->dev_status) < 0 ||
	    jetl_py_set_int(d, "warnings", $1->warnings) < 0 ||
	    jetl_py_set_float(d, "seconds", $1->seconds) < 0) {
		Py_XDECREF(d);
		SWIG_fail;
	}
	$result = SWIG_Python_AppendOutput($result, d);
}

%typemap(in, numinputs=0) jetl_job *job (jetl_job j) {
	memset(&j, 0, sizeof(j));
	j.version = JETL_JOB_VERSION;
	$1 = &j;
}
%typemap(argout) jetl_job *job {
	PyObject *d = PyDict_New();
	if (!d ||
	    jetl_py_set_int(d, "id", $1->id) < 0 ||
	    jetl_py_set_str(d, "job_type", $1->job_type) < 0 ||
	    jetl_py_set_str(d, "status", $1->status) < 0 ||
	    jetl_py_set_int(d, "step", $1->step) < 0 ||
	    jetl_py_set_int(d, "total_steps", $1->total_steps) < 0 ||
	    jetl_py_set_str(d, "step_name", $1->step_name) < 0 ||
	    jetl_py_set_int(d, "items_done", $1->items_done) < 0 ||
	    jetl_py_set_int(d, "items_total", $1->items_total) < 0 ||
	    jetl_py_set_str(d, "message", $1->message) < 0 ||
	    jetl_py_set_str(d, "error", $1->error) < 0 ||
	    jetl_py_set_float(d, "created_at", $1->created_at) < 0 ||
	    jetl_py_set_float(d, "started_at", $1->started_at) < 0 ||
	    jetl_py_set_float(d, "updated_at", $1->updated_at) < 0 ||
	    jetl_py_set_float(d, "finished_at", $1->finished_at) < 0 ||
	    jetl_py_set_int(d, "raw_pending", $1->raw_pending) < 0 ||
	    jetl_py_set_int(d, "raw_failed", $1->raw_failed) < 0 ||
	    jetl_py_set_int(d, "issues", $1->issues) < 0 ||
	    jetl_py_set_int(d, "histories", $1->histories) < 0 ||
	    jetl_py_set_int(d, "changelog_items", $1->changelog_items) < 0 ||
	    jetl_py_set_int(d, "dev_status", $1->dev_status) < 0 ||
	    jetl_py_set_int(d, "work_items", $1->work_items) < 0 ||
	    jetl_py_set_int(d, "raw_rows", $1->raw_rows) < 0 ||
	    jetl_py_set_int(d, "requests", $1->requests) < 0 ||
	    jetl_py_set_int(d, "retries", $1->retries) < 0 ||
	    jetl_py_set_int(d, "rate_limited", $1->rate_limited) < 0 ||
	    jetl_py_set_int(d, "deleted", $1->deleted) < 0 ||
	    jetl_py_set_int(d, "not_stored", $1->not_stored) < 0 ||
	    jetl_py_set_int(d, "future_dated", $1->future_dated) < 0 ||
	    jetl_py_set_int(d, "deleted_refused", $1->deleted_refused) < 0 ||
	    jetl_py_set_int(d, "projects_done", $1->projects_done) < 0 ||
	    jetl_py_set_int(d, "projects_total", $1->projects_total) < 0 ||
	    jetl_py_set_str(d, "detail", $1->detail) < 0) {
		Py_XDECREF(d);
		SWIG_fail;
	}
	$result = SWIG_Python_AppendOutput($result, d);
}

/* jetl_fields_list: the callback collects dicts into the returned list. */
%{
static int jetl_py_field(const jetl_field_info *f, void *userdata)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *d = PyDict_New();
	int rc = -1;

	if (d &&
	    jetl_py_set_str(d, "id", f->id) == 0 &&
	    jetl_py_set_str(d, "name", f->name ? f->name : "") == 0 &&
	    jetl_py_set_str(d, "type", f->type ? f->type : "") == 0 &&
	    PyDict_SetItemString(d, "custom", f->custom ? Py_True : Py_False) == 0 &&
	    jetl_py_set_int(d, "slot", f->slot) == 0)
		rc = PyList_Append((PyObject *)userdata, d);
	Py_XDECREF(d);
	if (rc < 0)
		PyErr_Clear(); /* out of memory: stop; the list is short, not wrong */
	PyGILState_Release(gil);
	return rc < 0;
}
%}
%typemap(in, numinputs=0) (jetl_field_cb cb, void *userdata) (PyObject *list = NULL) {
	list = PyList_New(0);
	if (!list)
		SWIG_fail;
	$1 = jetl_py_field;
	$2 = list;
}
%typemap(argout) (jetl_field_cb cb, void *userdata) {
	Py_INCREF(list$argnum);
	$result = SWIG_Python_AppendOutput($result, list$argnum);
}
%typemap(freearg) (jetl_field_cb cb, void *userdata) { Py_XDECREF(list$argnum); }

/* jetl_job_list: takes max, returns a list of ids. */
%typemap(in) (int64_t *ids, size_t max, size_t *count) (int64_t *idv = NULL, size_t n = 0) {
	long m = PyLong_AsLong($input);
	if (m == -1 && PyErr_Occurred())
		SWIG_fail;
	if (m < 0 || m > 100000) {
		PyErr_SetString(PyExc_ValueError, "limit must be in 0..100000");
		SWIG_fail;
	}
	idv = (int64_t *)calloc((size_t)m + 1, sizeof(*idv));
	if (!idv) {
		PyErr_NoMemory();
		SWIG_fail;
	}
	$1 = idv;
	$2 = (size_t)m;
	$3 = &n;
}
%typemap(argout) (int64_t *ids, size_t max, size_t *count) {
	PyObject *l = PyList_New(0);
	size_t i;
	for (i = 0; l && i < n$argnum && i < $2; i++) {
		PyObject *v = PyLong_FromLongLong((long long)idv$argnum[i]);
		if (!v || PyList_Append(l, v) < 0) {
			Py_XDECREF(v);
			Py_CLEAR(l);
			break;
		}
		Py_DECREF(v);
	}
	if (!l)
		SWIG_fail;
	$result = SWIG_Python_AppendOutput($result, l);
}
%typemap(freearg) (int64_t *ids, size_t max, size_t *count) { free(idv$argnum); }

/* Project keys: any sequence of str; the list/tuple is held for the call. */
%typemap(in) (const char *const *project_keys, size_t n) (PyObject *seq = NULL, const char **keylist = NULL) {
	Py_ssize_t i, len;
	seq = PySequence_Fast($input, "project keys must be a sequence of str");
	if (!seq)
		SWIG_fail;
	len = PySequence_Fast_GET_SIZE(seq);
	keylist = (const char **)calloc((size_t)len + 1, sizeof(*keylist));
	if (!keylist) {
		PyErr_NoMemory();
		SWIG_fail;
	}
	for (i = 0; i < len; i++) {
		PyObject *k = PySequence_Fast_GET_ITEM(seq, i);
		if (!PyUnicode_Check(k)) {
			PyErr_SetString(PyExc_TypeError, "a project key must be a str");
			SWIG_fail;
		}
		keylist[i] = PyUnicode_AsUTF8(k);
		if (!keylist[i])
			SWIG_fail;
	}
	$1 = ($1_ltype)keylist;
	$2 = (size_t)len;
}
%typemap(freearg) (const char *const *project_keys, size_t n) {
	free((void *)keylist$argnum);
	Py_XDECREF(seq$argnum);
}

/* Extraction options: a dict (full, jql, distribute, wait, wait_seconds, dev_status, progress). */
%typemap(in) const jetl_extract_options *opts (jetl_extract_options o, jetl_pycb cb = JETL_PYCB_INIT) {
	jetl_extract_options_init(&o, JETL_EXTRACT_OPTIONS_VERSION);
	if (jetl_py_check_dict($input, "extract options") < 0)
		SWIG_fail;
	if ($input != Py_None &&
	    (jetl_py_opt_int($input, "full", &o.full) < 0 ||
	     jetl_py_opt_str($input, "jql", &o.jql) < 0 ||
	     jetl_py_opt_int($input, "distribute", &o.distribute) < 0 ||
	     jetl_py_opt_int($input, "wait", &o.wait) < 0 ||
	     jetl_py_opt_int($input, "wait_seconds", &o.wait_seconds) < 0 ||
	     jetl_py_opt_int($input, "dev_status", &o.dev_status) < 0 ||
	     jetl_py_opt_callback($input, &cb) < 0))
		SWIG_fail;
	if (cb.callable)
		o.progress = jetl_py_progress;
	o.progress_userdata = &cb;
	$1 = &o;
}
%typemap(freearg) const jetl_extract_options *opts { jetl_pycb_clear(&cb$argnum); }

/* Worker options: a dict (threads, until_idle, idle_ms, distribute, prefetch, max_deliveries, progress). */
%typemap(in) const jetl_worker_options *opts (jetl_worker_options o, jetl_pycb cb = JETL_PYCB_INIT) {
	jetl_worker_options_init(&o, JETL_WORKER_OPTIONS_VERSION);
	if (jetl_py_check_dict($input, "worker options") < 0)
		SWIG_fail;
	if ($input != Py_None &&
	    (jetl_py_opt_int($input, "threads", &o.threads) < 0 ||
	     jetl_py_opt_int($input, "until_idle", &o.until_idle) < 0 ||
	     jetl_py_opt_int($input, "idle_ms", &o.idle_ms) < 0 ||
	     jetl_py_opt_int($input, "distribute", &o.distribute) < 0 ||
	     jetl_py_opt_int($input, "prefetch", &o.prefetch) < 0 ||
	     jetl_py_opt_int($input, "max_deliveries", &o.max_deliveries) < 0 ||
	     jetl_py_opt_callback($input, &cb) < 0))
		SWIG_fail;
	if (cb.callable)
		o.progress = jetl_py_progress;
	o.progress_userdata = &cb;
	$1 = &o;
}
%typemap(freearg) const jetl_worker_options *opts { jetl_pycb_clear(&cb$argnum); }

/*
 * Statuses. The typemaps are matched by function name, so getters returning
 * int (version_number, tenant_id, …) keep their value. The GIL is held
 * again here (the -threads release wraps only the C call).
 */
%define JETL_STATUS(func, ctxarg)
%typemap(out) int func {
	if ($1 < 0) {
		jetl_py_raise($1, jetl_last_error(ctxarg));
		SWIG_fail;
	}
	$result = SWIG_Py_Void();
}
%enddef

/* Same, for calls with a progress callback: its exception wins. */
%define JETL_STATUS_CB(func, ctxarg, optsarg)
%typemap(out) int func {
	if (jetl_pycb_reraise((jetl_pycb *)optsarg->progress_userdata))
		SWIG_fail;
	if ($1 < 0) {
		jetl_py_raise($1, jetl_last_error(ctxarg));
		SWIG_fail;
	}
	$result = SWIG_Py_Void();
}
%enddef

JETL_STATUS(jetl_migrate, arg1)
JETL_STATUS(jetl_transform_batch, arg1)
JETL_STATUS(jetl_job_get, arg1)
JETL_STATUS(jetl_fields_sync, arg1)
JETL_STATUS(jetl_field_map, arg1)
JETL_STATUS(jetl_fields_list, arg1)
JETL_STATUS(jetl_job_list, arg1)
JETL_STATUS(jetl_job_sweep, arg1)
JETL_STATUS(jetl_job_cancel, arg1)
JETL_STATUS_CB(jetl_extract_project, arg1, arg3)
JETL_STATUS_CB(jetl_extract, arg1, arg4)
JETL_STATUS_CB(jetl_worker_run, arg1, arg2)

%typemap(out) int jetl_py_open {
	if ($1 < 0) {
		jetl_py_raise($1, arg18);
		SWIG_fail;
	}
	$result = SWIG_Py_Void();
}

/* Only with the GIL: they touch Python objects. */
%nothread jetl_py_setup;
%nothread jetl_py_options_defaults;

%inline %{
/* Called once by jetl/__init__.py: how to build errors and progress events. */
void jetl_py_setup(PyObject *error_factory, PyObject *progress_type)
{
	Py_XINCREF(error_factory);
	Py_XSETREF(jetl_py_error_factory, error_factory);
	Py_XINCREF(progress_type);
	Py_XSETREF(jetl_py_progress_type, progress_type);
}

/* jetl_options_init's defaults, so the language layer documents real values. */
PyObject *jetl_py_options_defaults(void)
{
	jetl_options o;
	PyObject *d;

	jetl_options_init(&o, JETL_OPTIONS_VERSION);
	d = PyDict_New();
	if (!d ||
	    jetl_py_set_int(d, "tenant", o.tenant_id) < 0 ||
	    jetl_py_set_int(d, "integration", o.integration_id) < 0 ||
	    jetl_py_set_int(d, "jira_auth", o.jira_auth) < 0 ||
	    jetl_py_set_int(d, "jira_flavor", o.jira_flavor) < 0 ||
	    jetl_py_set_int(d, "concurrency", o.concurrency) < 0 ||
	    jetl_py_set_int(d, "connect_timeout_ms", o.connect_timeout_ms) < 0 ||
	    jetl_py_set_int(d, "request_timeout_ms", o.request_timeout_ms) < 0 ||
	    jetl_py_set_int(d, "max_attempts", o.max_attempts) < 0 ||
	    jetl_py_set_int(d, "batch_size", o.batch_size) < 0 ||
	    jetl_py_set_int(d, "log_level", o.log_level) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

/*
 * Open a context from the values of every jetl_options field in one call,
 * so the strings (held by the caller's argument tuple) outlive jetl_open's
 * copy of them. Runs without the GIL (it connects to PostgreSQL): it only
 * stores the log callable's pointer, whose reference the caller keeps for
 * the context's life. NULL strings mean "from the environment".
 */
int jetl_py_open(jetl_ctx **out, const char *db, int tenant, int integration,
	const char *jira_url, const char *jira_user, const char *jira_token,
	int jira_auth, int jira_flavor, const char *queue_url, int concurrency,
	int connect_timeout_ms, int request_timeout_ms, int max_attempts,
	int batch_size, PyObject *log, int log_level, char *errbuf, size_t errbuf_size)
{
	jetl_options o;

	jetl_options_init(&o, JETL_OPTIONS_VERSION);
	o.db = db;
	o.tenant_id = tenant;
	o.integration_id = integration;
	o.jira_url = jira_url;
	o.jira_user = jira_user;
	o.jira_token = jira_token;
	o.jira_auth = jira_auth;
	o.jira_flavor = jira_flavor;
	o.queue_url = queue_url;
	o.concurrency = concurrency;
	o.connect_timeout_ms = connect_timeout_ms;
	o.request_timeout_ms = request_timeout_ms;
	o.max_attempts = max_attempts;
	o.batch_size = batch_size;
	if (log && log != Py_None) {
		o.log_cb = jetl_py_log;
		o.log_userdata = log;
	}
	o.log_level = log_level;
	return jetl_open_err(out, &o, errbuf, errbuf_size);
}
%}

/* ------------------------------------------------- integrations (issue 14)
 * jetl/integration.h through small helpers that take and give dicts: the
 * fixed-size strings of jetl_integration stay on the C side. They hold the
 * GIL (short database calls) except around the network calls
 * (integration_test, projects_sync), which release it themselves. */
%nothread jetl_py_integration_get;
%nothread jetl_py_integration_list;
%nothread jetl_py_integration_add;
%nothread jetl_py_integration_update;
%nothread jetl_py_integration_set_secret;
%nothread jetl_py_integration_remove;
%nothread jetl_py_integration_test;
%nothread jetl_py_secret_rotate;
%nothread jetl_py_projects_sync;
%nothread jetl_py_projects_list;
%nothread jetl_py_projects_select;
%nothread jetl_py_webhook_secret;
%nothread jetl_py_webhook_secret_remove;
%{
static PyObject *jetl_py_integration_dict(const jetl_integration *in)
{
	static const char *const flavors[] = { "auto", "cloud", "server" };
	PyObject *d = PyDict_New();

	if (!d ||
	    jetl_py_set_int(d, "tenant_id", in->tenant_id) < 0 ||
	    jetl_py_set_int(d, "id", in->id) < 0 ||
	    jetl_py_set_str(d, "name", in->name) < 0 ||
	    jetl_py_set_str(d, "base_url", in->base_url) < 0 ||
	    jetl_py_set_str(d, "flavor", flavors[in->flavor >= 0 && in->flavor < 3 ? in->flavor : 0]) < 0 ||
	    jetl_py_set_str(d, "auth", in->auth == JETL_AUTH_BEARER ? "bearer" : "basic") < 0 ||
	    jetl_py_set_str(d, "user", in->user) < 0 ||
	    PyDict_SetItemString(d, "active", in->active ? Py_True : Py_False) < 0 ||
	    jetl_py_set_str(d, "projects", in->projects) < 0 ||
	    jetl_py_set_str(d, "jql", in->jql) < 0 ||
	    jetl_py_set_int(d, "concurrency", in->concurrency) < 0 ||
	    PyDict_SetItemString(d, "dev_status", in->dev_status ? Py_True : Py_False) < 0 ||
	    jetl_py_set_str(d, "secret_kind", in->secret_kind) < 0 ||
	    jetl_py_set_str(d, "secret_key_id", in->secret_key_id) < 0 ||
	    jetl_py_set_str(d, "secret_ref", in->secret_ref) < 0 ||
	    jetl_py_set_float(d, "created_at", in->created_at) < 0 ||
	    jetl_py_set_float(d, "updated_at", in->updated_at) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

/* One string field of a dict into a fixed buffer; 0 absent/None, -1 error set. */
static int jetl_py_field_str(PyObject *d, const char *key, char *dst, size_t n)
{
	PyObject *v = PyDict_GetItemString(d, key);
	const char *s;
	Py_ssize_t len;

	if (!v || v == Py_None)
		return 0;
	s = PyUnicode_Check(v) ? PyUnicode_AsUTF8AndSize(v, &len) : NULL;
	if (!s) {
		if (!PyErr_Occurred())
			PyErr_Format(PyExc_TypeError, "integration %s must be a str", key);
		return -1;
	}
	if ((size_t)len >= n) {
		PyErr_Format(PyExc_ValueError, "integration %s is too long (at most %zu bytes)", key, n - 1);
		return -1;
	}
	memcpy(dst, s, (size_t)len + 1);
	return 0;
}

static int jetl_py_field_int(PyObject *d, const char *key, int *dst)
{
	PyObject *v = PyDict_GetItemString(d, key);
	long x;

	if (!v || v == Py_None)
		return 0;
	x = PyLong_AsLong(v);
	if (x == -1 && PyErr_Occurred())
		return -1;
	*dst = (int)x;
	return 0;
}

/* dict (as integration_get gives, any subset) over *in; flavor/auth as ints. */
static int jetl_py_integration_from(PyObject *d, jetl_integration *in)
{
	if (!PyDict_Check(d)) {
		PyErr_SetString(PyExc_TypeError, "integration fields must be a dict");
		return -1;
	}
	if (jetl_py_field_int(d, "id", &in->id) < 0 ||
	    jetl_py_field_str(d, "name", in->name, sizeof(in->name)) < 0 ||
	    jetl_py_field_str(d, "base_url", in->base_url, sizeof(in->base_url)) < 0 ||
	    jetl_py_field_int(d, "flavor", &in->flavor) < 0 ||
	    jetl_py_field_int(d, "auth", &in->auth) < 0 ||
	    jetl_py_field_str(d, "user", in->user, sizeof(in->user)) < 0 ||
	    jetl_py_field_int(d, "active", &in->active) < 0 ||
	    jetl_py_field_str(d, "projects", in->projects, sizeof(in->projects)) < 0 ||
	    jetl_py_field_str(d, "jql", in->jql, sizeof(in->jql)) < 0 ||
	    jetl_py_field_int(d, "concurrency", &in->concurrency) < 0 ||
	    jetl_py_field_int(d, "dev_status", &in->dev_status) < 0)
		return -1;
	return 0;
}

static int jetl_py_collect_integration(const jetl_integration *in, void *ud)
{
	PyObject *d = jetl_py_integration_dict(in);
	int rc = d ? PyList_Append((PyObject *)ud, d) : -1;

	Py_XDECREF(d);
	return rc < 0;
}

static int jetl_py_collect_project(const jetl_project_info *p, void *ud)
{
	PyObject *d = PyDict_New();
	int rc = -1;

	if (d &&
	    jetl_py_set_str(d, "key", p->key) == 0 &&
	    jetl_py_set_str(d, "id", p->id) == 0 &&
	    jetl_py_set_str(d, "name", p->name) == 0 &&
	    jetl_py_set_str(d, "type", p->type) == 0 &&
	    PyDict_SetItemString(d, "active", p->active ? Py_True : Py_False) == 0 &&
	    PyDict_SetItemString(d, "selected", p->selected ? Py_True : Py_False) == 0)
		rc = PyList_Append((PyObject *)ud, d);
	Py_XDECREF(d);
	return rc < 0;
}
%}

%inline %{
PyObject *jetl_py_integration_get(jetl_ctx *ctx, int id)
{
	jetl_integration in = JETL_INTEGRATION_INIT;
	int rc = jetl_integration_get(ctx, id, &in);

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	return jetl_py_integration_dict(&in);
}

PyObject *jetl_py_integration_list(jetl_ctx *ctx)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = jetl_integration_list(ctx, jetl_py_collect_integration, list);
	if (rc < 0 || PyErr_Occurred()) {
		if (!PyErr_Occurred())
			jetl_py_raise(rc, jetl_last_error(ctx));
		Py_DECREF(list);
		return NULL;
	}
	return list;
}

PyObject *jetl_py_integration_add(jetl_ctx *ctx, PyObject *fields, const char *secret)
{
	jetl_integration in = JETL_INTEGRATION_INIT;
	int id = 0, rc;

	if (jetl_py_integration_from(fields, &in) < 0)
		return NULL;
	rc = jetl_integration_add(ctx, &in, secret, &id);
	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	return PyLong_FromLong(id);
}

/* Read-modify-write: the stored row, the given fields over it. */
PyObject *jetl_py_integration_update(jetl_ctx *ctx, int id, PyObject *fields, const char *secret)
{
	jetl_integration in = JETL_INTEGRATION_INIT;
	int rc = jetl_integration_get(ctx, id, &in);

	if (rc == 0 && jetl_py_integration_from(fields, &in) < 0)
		return NULL;
	in.id = id;
	if (rc == 0)
		rc = jetl_integration_update(ctx, &in, secret);
	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	Py_RETURN_NONE;
}

PyObject *jetl_py_integration_set_secret(jetl_ctx *ctx, int id, const char *secret)
{
	int rc = jetl_integration_set_secret(ctx, id, secret);

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	Py_RETURN_NONE;
}

/* jetl/webhook.h: (secret, path token) of a new secret (fresh != 0) or of
 * the stored one; the C buffers are wiped once Python has its copies. */
PyObject *jetl_py_webhook_secret(jetl_ctx *ctx, int id, int fresh)
{
	char secret[JETL_WEBHOOK_SECRET_SIZE], path[JETL_WEBHOOK_PATH_SIZE];
	PyObject *t;
	int rc = fresh ? jetl_webhook_secret_new(ctx, id, secret, sizeof(secret), path, sizeof(path)) :
			 jetl_webhook_secret_get(ctx, id, secret, sizeof(secret), path, sizeof(path));

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	t = Py_BuildValue("(ss)", secret, path);
	memset(secret, 0, sizeof(secret));
	return t;
}

PyObject *jetl_py_webhook_secret_remove(jetl_ctx *ctx, int id)
{
	int rc = jetl_webhook_secret_remove(ctx, id);

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	Py_RETURN_NONE;
}

PyObject *jetl_py_integration_remove(jetl_ctx *ctx, int id)
{
	int rc = jetl_integration_remove(ctx, id);

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	Py_RETURN_NONE;
}

/* The test's outcome as a dict; raises only when the lookup failed
 * (no such integration, database), not for what the test found. */
PyObject *jetl_py_integration_test(jetl_ctx *ctx, int id)
{
	jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;
	PyObject *d;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = jetl_integration_test(ctx, id, &r);
	Py_END_ALLOW_THREADS
	if (rc < 0 && !r.failure[0]) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	d = PyDict_New();
	if (!d ||
	    PyDict_SetItemString(d, "ok", r.status == 0 ? Py_True : Py_False) < 0 ||
	    jetl_py_set_int(d, "status", r.status) < 0 ||
	    jetl_py_set_str(d, "failure", r.failure) < 0 ||
	    jetl_py_set_int(d, "http_status", r.http_status) < 0 ||
	    jetl_py_set_int(d, "flavor", r.flavor) < 0 ||
	    jetl_py_set_str(d, "deployment", r.deployment) < 0 ||
	    jetl_py_set_str(d, "server_version", r.server_version) < 0 ||
	    jetl_py_set_str(d, "user", r.user) < 0 ||
	    jetl_py_set_str(d, "time_zone", r.time_zone) < 0 ||
	    jetl_py_set_str(d, "message", r.message) < 0 ||
	    jetl_py_set_float(d, "seconds", r.seconds) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

PyObject *jetl_py_secret_rotate(jetl_ctx *ctx, const char *old_key)
{
	int64_t n = 0;
	int rc = jetl_secret_rotate(ctx, old_key, &n);

	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	return PyLong_FromLongLong((long long)n);
}

PyObject *jetl_py_projects_sync(jetl_ctx *ctx)
{
	int64_t n = 0;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = jetl_projects_sync(ctx, &n);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	return PyLong_FromLongLong((long long)n);
}

PyObject *jetl_py_projects_list(jetl_ctx *ctx)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = jetl_projects_list(ctx, jetl_py_collect_project, list);
	if (rc < 0 || PyErr_Occurred()) {
		if (!PyErr_Occurred())
			jetl_py_raise(rc, jetl_last_error(ctx));
		Py_DECREF(list);
		return NULL;
	}
	return list;
}

PyObject *jetl_py_projects_select(jetl_ctx *ctx, PyObject *keys)
{
	PyObject *seq = PySequence_Fast(keys, "keys must be a sequence of str");
	const char **v;
	Py_ssize_t n;
	int rc;

	if (!seq)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		Py_DECREF(seq);
		return PyErr_NoMemory();
	}
	for (Py_ssize_t k = 0; k < n; k++) {
		PyObject *o = PySequence_Fast_GET_ITEM(seq, k);
		v[k] = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
		if (!v[k]) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "keys must be a sequence of str");
			free(v);
			Py_DECREF(seq);
			return NULL;
		}
	}
	rc = jetl_projects_select(ctx, v, (size_t)n);
	free(v);
	Py_DECREF(seq);
	if (rc < 0) {
		jetl_py_raise(rc, jetl_last_error(ctx));
		return NULL;
	}
	Py_RETURN_NONE;
}
%}

#endif /* SWIGPYTHON */

/* --------------------------------------------------------- the C surface */
#define JETL_API
#define JETL_BEGIN_DECL
#define JETL_END_DECL
%include "jetl/common.h"
%include "jetl/progress.h"
%include "jetl/context.h"
%include "jetl/extract.h"
%include "jetl/transform.h"
%include "jetl/worker.h"
%include "jetl/job.h"
%include "jetl/fields.h"

/* A macro over an enum value (named so the preprocessor leaves the name alone). */
%constant int status_min = JETL_STATUS_MIN;
