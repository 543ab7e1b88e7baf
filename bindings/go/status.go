package jetl

/*
#include <jetl.h>
*/
import "C"

import (
	"errors"
	"fmt"
)

// Status is a status code of the C library (enum jetl_status): OK or a
// negative value, never renumbered. As with syscall.Errno, the constants keep
// the C names without the JETL_ prefix (JETL_EAUTH is EAUTH in C, Python and
// Go); String gives the C name, Text the C library's one-line message.
type Status int

// The statuses of include/jetl/common.h.
const (
	OK         Status = C.JETL_OK
	ERROR      Status = C.JETL_ERROR // unclassified failure
	EINVAL     Status = C.JETL_EINVAL
	EVERSION   Status = C.JETL_EVERSION
	ENOMEM     Status = C.JETL_ENOMEM
	ENOTIMPL   Status = C.JETL_ENOTIMPL
	EDBCONN    Status = C.JETL_EDBCONN
	EDB        Status = C.JETL_EDB
	ESCHEMA    Status = C.JETL_ESCHEMA
	EQUEUE     Status = C.JETL_EQUEUE
	ENETWORK   Status = C.JETL_ENETWORK
	ETIMEOUT   Status = C.JETL_ETIMEOUT
	EAUTH      Status = C.JETL_EAUTH
	EFORBIDDEN Status = C.JETL_EFORBIDDEN
	ENOTFOUND  Status = C.JETL_ENOTFOUND // Jira answered 404
	EGONE      Status = C.JETL_EGONE
	ERATELIMIT Status = C.JETL_ERATELIMIT
	EHTTP      Status = C.JETL_EHTTP
	EPROTOCOL  Status = C.JETL_EPROTOCOL
	EDATA      Status = C.JETL_EDATA
	ECANCELLED Status = C.JETL_ECANCELLED
	ESTATE     Status = C.JETL_ESTATE
	ENOENT     Status = C.JETL_ENOENT // no such job, raw row, field or project
	ECONFIG    Status = C.JETL_ECONFIG
	EIO        Status = C.JETL_EIO
	// EDBRETRY is written as its number: status codes are never renumbered,
	// and the number keeps this package building against a libjetl whose
	// header predates it (whose StatusText then says "unknown status").
	EDBRETRY Status = -25 // JETL_EDBRETRY: transient PostgreSQL failure
	// EBUSY: a project of the call is being extracted by another running
	// job; the message names it (and the job id comes back where the call
	// returns one). Written as its number, as EDBRETRY.
	EBUSY Status = -26 // JETL_EBUSY

	// StatusMin is the lowest status the C library can return.
	StatusMin Status = C.JETL_STATUS_MIN

	// EERROR is the former name of ERROR.
	//
	// Deprecated: use ERROR, the name C (JETL_ERROR) and Python use.
	EERROR = ERROR
)

// String is the C name of the status ("JETL_EAUTH").
func (s Status) String() string { return C.GoString(C.jetl_status_name(C.int(s))) }

// Text is the C library's static one-line message for the status.
func (s Status) Text() string { return C.GoString(C.jetl_strerror(C.int(s))) }

// Retriable reports whether a call that failed with s may succeed later.
func (s Status) Retriable() bool { return C.jetl_status_is_retriable(C.int(s)) != 0 }

// StatusText is s.Text(), the name the C (jetl_strerror) and Python
// (jetl.strerror) APIs use.
func StatusText(s Status) string { return s.Text() }

// StatusName is s.String() ("JETL_EAUTH").
func StatusName(s Status) string { return s.String() }

// Error is a failed call: the negative C status and the C library's one-line
// message. A call stopped by its context.Context also wraps the context's
// error, so errors.Is(err, context.Canceled) (or context.DeadlineExceeded)
// holds as well as errors.Is(err, ErrCancelled).
type Error struct {
	Status  Status
	Message string
	cause   error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("jetl: %s (%s)", e.Message, e.Status)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the context's error when a context ended the call, else nil.
func (e *Error) Unwrap() error { return e.cause }

// Is matches another *Error with the same status whose message is empty
// (the Err* sentinels) or equal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && (t.Message == "" || t.Message == e.Message)
}

// Retriable reports whether the same call may succeed later.
func (e *Error) Retriable() bool { return e.Status.Retriable() }

// Sentinels for errors.Is: exactly one per C status, named after the concept
// as in bindings/README.md ("One name per concept"), where the Python class
// of each is listed too. They match any *Error of their status.
var (
	ErrUnclassified       = &Error{Status: ERROR}
	ErrInvalidArgument    = &Error{Status: EINVAL}
	ErrVersion            = &Error{Status: EVERSION}
	ErrNoMemory           = &Error{Status: ENOMEM}
	ErrNotImplemented     = &Error{Status: ENOTIMPL}
	ErrDatabaseConnection = &Error{Status: EDBCONN}
	ErrDatabase           = &Error{Status: EDB}
	ErrSchema             = &Error{Status: ESCHEMA}
	ErrQueue              = &Error{Status: EQUEUE}
	ErrNetwork            = &Error{Status: ENETWORK}
	ErrTimeout            = &Error{Status: ETIMEOUT}
	ErrAuth               = &Error{Status: EAUTH}
	ErrForbidden          = &Error{Status: EFORBIDDEN}
	// ErrNotFound is Jira's HTTP 404 (JETL_ENOTFOUND). A missing job, raw
	// row or field is ErrNoEntry.
	ErrNotFound  = &Error{Status: ENOTFOUND}
	ErrGone      = &Error{Status: EGONE}
	ErrRateLimit = &Error{Status: ERATELIMIT}
	ErrHTTP      = &Error{Status: EHTTP}
	ErrProtocol  = &Error{Status: EPROTOCOL}
	ErrData      = &Error{Status: EDATA}
	// ErrCancelled: a progress callback returned true, the context of a
	// …Context call was done, or the job was cancelled.
	ErrCancelled = &Error{Status: ECANCELLED}
	ErrState     = &Error{Status: ESTATE}
	// ErrNoEntry is no such job, raw row, field or project (JETL_ENOENT).
	ErrNoEntry       = &Error{Status: ENOENT}
	ErrConfig        = &Error{Status: ECONFIG}
	ErrIO            = &Error{Status: EIO}
	ErrDatabaseRetry = &Error{Status: EDBRETRY}
	// ErrBusy: another running job is extracting one of the projects.
	ErrBusy = &Error{Status: EBUSY}

	// ErrClosed is returned by calls on a closed Client; it is also an ErrState.
	ErrClosed = &Error{Status: ESTATE, Message: "client is closed"}
)

// Former names of sentinels, kept so that code written against them builds.
var (
	// Deprecated: use ErrInvalidArgument.
	ErrInvalid = ErrInvalidArgument
	// Deprecated: use ErrDatabaseConnection.
	ErrDBConnection = ErrDatabaseConnection
	// Deprecated: use ErrDatabase.
	ErrDB = ErrDatabase
)

func newError(status C.int, msg string) *Error {
	s := Status(status)
	if msg == "" {
		msg = s.Text()
	}
	return &Error{Status: s, Message: msg}
}

// IsNotImplemented reports whether err is the library's JETL_ENOTIMPL.
func IsNotImplemented(err error) bool { return errors.Is(err, ErrNotImplemented) }
