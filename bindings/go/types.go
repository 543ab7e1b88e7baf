package jetl

/*
#include <jetl.h>
*/
import "C"

import "strconv"

// Phase is a phase of a job (enum jetl_phase); String gives its lower-case
// name ("census"), the one Progress.PhaseName, etl_job_queue.step_name and
// Python's Progress.phase_name carry.
type Phase int

// Phases of a job, in the order they usually run.
const (
	PhaseDiscover   Phase = C.JETL_PHASE_DISCOVER
	PhaseCensus     Phase = C.JETL_PHASE_CENSUS
	PhaseIssues     Phase = C.JETL_PHASE_ISSUES
	PhaseChangelogs Phase = C.JETL_PHASE_CHANGELOGS
	PhaseDevStatus  Phase = C.JETL_PHASE_DEV_STATUS
	PhaseStore      Phase = C.JETL_PHASE_STORE
	PhaseQueue      Phase = C.JETL_PHASE_QUEUE
	PhaseTransform  Phase = C.JETL_PHASE_TRANSFORM
	PhaseDone       Phase = C.JETL_PHASE_DONE
)

// String is the phase's lower-case name ("dev_status").
func (p Phase) String() string { return C.GoString(C.jetl_phase_name(C.int(p))) }

// PhaseName is p.String(), the name the C (jetl_phase_name) and Python
// (jetl.phase_name) APIs use.
func PhaseName(p Phase) string { return p.String() }

// JobStatus is the status column of a job's etl_job_queue row.
type JobStatus string

// Job statuses; a job that is not queued or running has ended.
const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobFinished  JobStatus = "finished"
	JobFailed    JobStatus = "failed"
	JobCancelled JobStatus = "cancelled"
)

func (s JobStatus) String() string { return string(s) }

// Auth is a Jira authentication scheme (Options.JiraAuth).
type Auth int

// Jira authentication schemes (enum jetl_auth).
const (
	AuthBasic  Auth = C.JETL_AUTH_BASIC  // user/email and API token or password
	AuthBearer Auth = C.JETL_AUTH_BEARER // personal access token or OAuth token
)

// String is the scheme's name as the jetl command's --jira-auth takes it.
func (a Auth) String() string {
	switch a {
	case AuthBasic:
		return "basic"
	case AuthBearer:
		return "bearer"
	}
	return "Auth(" + strconv.Itoa(int(a)) + ")"
}

// Flavor is a Jira deployment flavor (Options.JiraFlavor).
type Flavor int

// Jira deployment flavors (enum jetl_flavor).
const (
	FlavorAuto   Flavor = C.JETL_FLAVOR_AUTO // ask Jira's serverInfo
	FlavorCloud  Flavor = C.JETL_FLAVOR_CLOUD
	FlavorServer Flavor = C.JETL_FLAVOR_SERVER // Server and Data Center
)

// String is the flavor's name as the jetl command's --jira-flavor takes it.
func (f Flavor) String() string {
	switch f {
	case FlavorAuto:
		return "auto"
	case FlavorCloud:
		return "cloud"
	case FlavorServer:
		return "server"
	}
	return "Flavor(" + strconv.Itoa(int(f)) + ")"
}

// LogLevel is a log level, in syslog's order (Options.LogLevel).
type LogLevel int

// Log levels (enum jetl_log_level).
const (
	LogError   LogLevel = C.JETL_LOG_ERROR
	LogWarning LogLevel = C.JETL_LOG_WARNING
	LogInfo    LogLevel = C.JETL_LOG_INFO
	LogDebug   LogLevel = C.JETL_LOG_DEBUG
)

func (l LogLevel) String() string {
	switch l {
	case LogError:
		return "error"
	case LogWarning:
		return "warning"
	case LogInfo:
		return "info"
	case LogDebug:
		return "debug"
	}
	return "LogLevel(" + strconv.Itoa(int(l)) + ")"
}
