package jetl

/*
#include <stdlib.h>
#include <string.h>
#include <jetl.h>

// The list calls collect into malloc'd arrays here, so no Go callback runs
// inside C: the rows come back in one piece and Go copies them.
typedef struct { jetl_integration *v; size_t n, cap; } jl_go_ints;

static int jl_go_collect_int(const jetl_integration *in, void *ud)
{
	jl_go_ints *a = ud;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		jetl_integration *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return 1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *in;
	return 0;
}

static int jl_go_integration_list(jetl_ctx *ctx, jetl_integration **out, size_t *n)
{
	jl_go_ints a = { NULL, 0, 0 };
	int rc = jetl_integration_list(ctx, jl_go_collect_int, &a);
	*out = a.v;
	*n = a.n;
	return rc;
}

typedef struct { char key[256], id[64], name[512], type[64]; int active, selected; } jl_go_project;
typedef struct { jl_go_project *v; size_t n, cap; } jl_go_projects;

static int jl_go_collect_project(const jetl_project_info *p, void *ud)
{
	jl_go_projects *a = ud;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		jl_go_project *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return 1;
		a->v = v;
		a->cap = cap;
	}
	jl_go_project *o = &a->v[a->n++];
	memset(o, 0, sizeof(*o));
	strncpy(o->key, p->key, sizeof(o->key) - 1);
	strncpy(o->id, p->id, sizeof(o->id) - 1);
	strncpy(o->name, p->name, sizeof(o->name) - 1);
	strncpy(o->type, p->type, sizeof(o->type) - 1);
	o->active = p->active;
	o->selected = p->selected;
	return 0;
}

static int jl_go_projects_list(jetl_ctx *ctx, jl_go_project **out, size_t *n)
{
	jl_go_projects a = { NULL, 0, 0 };
	int rc = jetl_projects_list(ctx, jl_go_collect_project, &a);
	*out = a.v;
	*n = a.n;
	return rc;
}

static void jl_go_set(char *dst, size_t n, const char *src)
{
	strncpy(dst, src ? src : "", n - 1);
	dst[n - 1] = '\0';
}

static void jl_go_wipe_free(char *s)
{
	if (s) {
		volatile char *p = s;
		while (*p)
			*p++ = 0;
		free(s);
	}
}
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// Integration is one Jira site of the Client's tenant (jetl/integration.h).
// Its secret is never read back: SecretKind says what is stored.
type Integration struct {
	TenantID    int // read only: the Client's tenant
	ID          int // IntegrationAdd: 0 picks a fresh id
	Name        string
	BaseURL     string
	Flavor      Flavor
	Auth        Auth
	User        string
	Active      bool
	Projects    []string // what an extraction without keys takes (nil: every active project)
	JQL         string   // extra JQL of its extractions
	Concurrency int      // 0: the Client's
	DevStatus   bool
	SecretKind  string // read only: "encrypted", "env", "file" or "none"
	SecretKeyID string // read only: id of the key that sealed it (a hash, not the key)
	SecretRef   string // read only: the env:/file: reference
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewIntegration is an Integration with the C defaults (JETL_INTEGRATION_INIT):
// active, dev status on, flavor auto, basic auth. Prefer it to a literal,
// whose zero Active and DevStatus mean inactive and no dev status.
func NewIntegration(name, baseURL string) Integration {
	return Integration{Name: name, BaseURL: baseURL, Flavor: FlavorAuto, Auth: AuthBasic, Active: true,
		DevStatus: true}
}

// IntegrationTestResult is what IntegrationTest found. Failure is "" when the
// site answered, else "auth" (HTTP 401), "forbidden" (403), "not_found",
// "http", "tls", "dns", "unreachable", "timeout", "network", "protocol",
// "secret" or "config".
type IntegrationTestResult struct {
	OK            bool
	Failure       string
	HTTPStatus    int
	Flavor        Flavor
	Deployment    string // "Cloud", "Server", "DataCenter"
	ServerVersion string
	User          string
	TimeZone      string
	Message       string
	Duration      time.Duration
}

// Project is one project of the Client's integration as discovery stored it.
type Project struct {
	Key, ID, Name, Type string
	Active              bool // Jira still lists it
	Selected            bool // taken by an extraction without keys
}

func fromC(in *C.jetl_integration) Integration {
	out := Integration{
		TenantID: int(in.tenant_id), ID: int(in.id),
		Name:    C.GoString(&in.name[0]),
		BaseURL: C.GoString(&in.base_url[0]),
		Flavor:  Flavor(in.flavor), Auth: Auth(in.auth),
		User:   C.GoString(&in.user[0]),
		Active: in.active != 0,
		JQL:    C.GoString(&in.jql[0]), Concurrency: int(in.concurrency), DevStatus: in.dev_status != 0,
		SecretKind:  C.GoString(&in.secret_kind[0]),
		SecretKeyID: C.GoString(&in.secret_key_id[0]),
		SecretRef:   C.GoString(&in.secret_ref[0]),
		CreatedAt:   unixTime(in.created_at),
		UpdatedAt:   unixTime(in.updated_at),
	}
	if p := C.GoString(&in.projects[0]); p != "" {
		out.Projects = strings.Split(p, ",")
	}
	return out
}

// toC fills a C struct; too long a string is an error, never cut.
func (in Integration) toC(out *C.jetl_integration) error {
	C.jetl_integration_init(out, C.JETL_INTEGRATION_VERSION)
	set := func(dst *C.char, n int, s, what string) error {
		if len(s) >= n || strings.IndexByte(s, 0) >= 0 {
			return newError(C.JETL_EINVAL, fmt.Sprintf("integration: %s is too long or holds a NUL", what))
		}
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		C.jl_go_set(dst, C.size_t(n), cs)
		return nil
	}
	out.id = C.int(in.ID)
	if err := set(&out.name[0], len(out.name), in.Name, "Name"); err != nil {
		return err
	}
	if err := set(&out.base_url[0], len(out.base_url), in.BaseURL, "BaseURL"); err != nil {
		return err
	}
	if err := set(&out.user[0], len(out.user), in.User, "User"); err != nil {
		return err
	}
	if err := set(&out.projects[0], len(out.projects), strings.Join(in.Projects, ","), "Projects"); err != nil {
		return err
	}
	if err := set(&out.jql[0], len(out.jql), in.JQL, "JQL"); err != nil {
		return err
	}
	out.flavor = C.int(in.Flavor)
	out.auth = C.int(in.Auth)
	out.active = boolInt(in.Active)
	out.concurrency = C.int(in.Concurrency)
	out.dev_status = boolInt(in.DevStatus)
	return nil
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// cSecret: "" is no secret (NULL); the C copy is wiped when freed.
func cSecret(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// IntegrationAdd stores a Jira site for the Client's tenant and returns its
// id. secret is the token (sealed with JETL_SECRET_KEY before it is
// stored), an "env:NAME"/"file:/path" reference, or "" for none yet. Start
// from NewIntegration: a literal's zero Active and DevStatus are false.
func (c *Client) IntegrationAdd(in Integration, secret string) (int, error) {
	var ci C.jetl_integration
	if err := in.toC(&ci); err != nil {
		return 0, err
	}
	cs := cSecret(secret)
	defer C.jl_go_wipe_free(cs)
	var id C.int
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_add(p, &ci, cs, &id) })
	return int(id), errOf(err)
}

// IntegrationUpdate replaces every field of in.ID but the secret (get,
// change, update); secret "" keeps the stored one.
func (c *Client) IntegrationUpdate(in Integration, secret string) error {
	var ci C.jetl_integration
	if err := in.toC(&ci); err != nil {
		return err
	}
	cs := cSecret(secret)
	defer C.jl_go_wipe_free(cs)
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_update(p, &ci, cs) }))
}

// IntegrationGet reads integration id (0: the Client's) of the Client's
// tenant. An unknown id, or another tenant's, is ErrNoEntry with "integration
// 7 of tenant 3 not found".
func (c *Client) IntegrationGet(id int) (Integration, error) {
	var ci C.jetl_integration
	C.jetl_integration_init(&ci, C.JETL_INTEGRATION_VERSION)
	if err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_get(p, C.int(id), &ci) }); err != nil {
		return Integration{}, err
	}
	return fromC(&ci), nil
}

// Integrations lists the Client's tenant's integrations, by id.
func (c *Client) Integrations() ([]Integration, error) {
	var v *C.jetl_integration
	var n C.size_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jl_go_integration_list(p, &v, &n) })
	defer C.free(unsafe.Pointer(v))
	if err != nil {
		return nil, err
	}
	out := make([]Integration, 0, int(n))
	for _, ci := range unsafe.Slice(v, int(n)) {
		out = append(out, fromC(&ci))
	}
	return out, nil
}

// IntegrationSetSecret replaces the secret ("" removes it).
func (c *Client) IntegrationSetSecret(id int, secret string) error {
	cs := cSecret(secret)
	defer C.jl_go_wipe_free(cs)
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_set_secret(p, C.int(id), cs) }))
}

// IntegrationRemove removes an integration (its data stays).
func (c *Client) IntegrationRemove(id int) error {
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_remove(p, C.int(id)) }))
}

// IntegrationTest asks the site for serverInfo and myself, once each. The
// result is filled either way; the error is non-nil when the test failed
// (ErrAuth, ErrForbidden, ErrNetwork, …, with Failure saying which class)
// or when the lookup did (ErrNoEntry, Failure "").
func (c *Client) IntegrationTest(id int) (IntegrationTestResult, error) {
	var r C.jetl_integration_test_result
	r.version = C.JETL_INTEGRATION_TEST_VERSION
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_integration_test(p, C.int(id), &r) })
	return IntegrationTestResult{
		OK: r.status == 0, Failure: C.GoString(&r.failure[0]), HTTPStatus: int(r.http_status),
		Flavor: Flavor(r.flavor), Deployment: C.GoString(&r.deployment[0]),
		ServerVersion: C.GoString(&r.server_version[0]), User: C.GoString(&r.user[0]),
		TimeZone: C.GoString(&r.time_zone[0]), Message: C.GoString(&r.message[0]),
		Duration: time.Duration(float64(r.seconds) * float64(time.Second)),
	}, errOf(err)
}

// SecretRotate re-seals every tenant's secrets from oldKey to the current
// JETL_SECRET_KEY in one transaction and returns how many.
func (c *Client) SecretRotate(oldKey string) (int64, error) {
	ck := C.CString(oldKey)
	defer C.jl_go_wipe_free(ck)
	var n C.int64_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_secret_rotate(p, ck, &n) })
	return int64(n), errOf(err)
}

// ProjectsSync reads the integration's projects, issue types and statuses
// from Jira; returns the number of projects.
func (c *Client) ProjectsSync() (int64, error) {
	var n C.int64_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_projects_sync(p, &n) })
	return int64(n), errOf(err)
}

// Projects lists the stored projects of the Client's integration, by key.
func (c *Client) Projects() ([]Project, error) {
	var v *C.jl_go_project
	var n C.size_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jl_go_projects_list(p, &v, &n) })
	defer C.free(unsafe.Pointer(v))
	if err != nil {
		return nil, err
	}
	out := make([]Project, 0, int(n))
	for _, p := range unsafe.Slice(v, int(n)) {
		out = append(out, Project{Key: C.GoString(&p.key[0]), ID: C.GoString(&p.id[0]),
			Name: C.GoString(&p.name[0]), Type: C.GoString(&p._type[0]),
			Active: p.active != 0, Selected: p.selected != 0})
	}
	return out, nil
}

// ProjectsSelect sets the projects an extraction without keys takes (none:
// every active project).
func (c *Client) ProjectsSelect(keys []string) error {
	ck := make([]*C.char, len(keys)+1)
	for i, k := range keys {
		ck[i] = C.CString(k)
	}
	defer func() {
		for _, p := range ck {
			C.free(unsafe.Pointer(p))
		}
	}()
	arr := (**C.char)(C.malloc(C.size_t(len(ck)) * C.size_t(unsafe.Sizeof(ck[0]))))
	defer C.free(unsafe.Pointer(arr))
	copy(unsafe.Slice(arr, len(ck)), ck)
	return errOf(c.call(func(p *C.jetl_ctx) C.int {
		return C.jetl_projects_select(p, arr, C.size_t(len(keys)))
	}))
}
