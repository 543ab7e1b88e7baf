package jetl_test

// Integrations through the Go binding: the tenant's sites stored with the
// secret sealed, ErrNoEntry for an unknown or another tenant's id, a Client
// without JiraURL taking its connection from the row, a connection test's
// failure classes, discovery and the selection.

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

func TestIntegrations(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	for _, k := range []string{"JETL_JIRA_URL", "JETL_JIRA_TOKEN"} {
		if v, ok := os.LookupEnv(k); ok {
			os.Unsetenv(k)
			defer os.Setenv(k, v)
		}
	}
	t.Setenv("JETL_SECRET_KEY", strings.Repeat("3c", 32))
	admin := open(t, jetl.Options{DB: db, Tenant: 31, Queue: ""})
	id, err := admin.IntegrationAdd(jetl.Integration{Name: "go site", BaseURL: s.url, User: simUser,
		Active: true, DevStatus: false, Flavor: jetl.FlavorCloud, Auth: jetl.AuthBasic}, simToken)
	must(t, err, "IntegrationAdd")
	got, err := admin.IntegrationGet(id)
	must(t, err, "IntegrationGet")
	if got.Name != "go site" || got.TenantID != 31 || got.SecretKind != "encrypted" || got.Flavor != jetl.FlavorCloud {
		t.Fatalf("got %+v", got)
	}
	if stored := psql(t, db, "SELECT secret FROM integrations WHERE id = "+strconv.Itoa(id)); strings.Contains(stored, simToken) || !strings.HasPrefix(stored, "enc:v1:") {
		t.Fatalf("stored secret %q", stored)
	}
	list, err := admin.Integrations()
	must(t, err, "Integrations")
	if len(list) != 1 || list[0].ID != id {
		t.Fatalf("list %+v", list)
	}
	if _, err := admin.IntegrationGet(id + 1000); !errors.Is(err, jetl.ErrNoEntry) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown id: %v", err)
	}
	r, err := admin.IntegrationTest(id)
	if err != nil || !r.OK || r.Deployment != "Cloud" || r.TimeZone == "" {
		t.Fatalf("test: %+v, %v", r, err)
	}
	in := jetl.NewIntegration("bad", s.url)
	in.User = simUser
	bad, err := admin.IntegrationAdd(in, "nope")
	must(t, err, "IntegrationAdd bad")
	r, err = admin.IntegrationTest(bad)
	if !errors.Is(err, jetl.ErrAuth) || r.Failure != "auth" || r.HTTPStatus != 401 {
		t.Fatalf("bad token: %+v, %v", r, err)
	}
	must(t, admin.IntegrationRemove(bad), "IntegrationRemove")

	other := open(t, jetl.Options{DB: db, Tenant: 32, Integration: id, Queue: ""})
	if _, err := other.IntegrationGet(id); !errors.Is(err, jetl.ErrNoEntry) {
		t.Fatalf("other tenant: %v", err)
	}
	if _, err := other.ExtractProject("GOB", jetl.ExtractOptions{}); !errors.Is(err, jetl.ErrNoEntry) {
		t.Fatalf("other tenant's extraction: %v", err)
	}
	if n := psql(t, db, "SELECT count(*) FROM etl_job_queue WHERE tenant_id = 32"); n != "0" {
		t.Fatalf("%s jobs written for the other tenant", n)
	}

	c := open(t, jetl.Options{DB: db, Tenant: 31, Integration: id, Queue: ""})
	n, err := c.ProjectsSync()
	must(t, err, "ProjectsSync")
	if n != 2 {
		t.Fatalf("%d projects", n)
	}
	must(t, c.ProjectsSelect([]string{"GOB"}), "ProjectsSelect")
	ps, err := c.Projects()
	must(t, err, "Projects")
	selected := 0
	for _, p := range ps {
		if p.Selected {
			selected++
			if p.Key != "GOB" {
				t.Fatalf("selected %+v", p)
			}
		}
	}
	if len(ps) != 2 || selected != 1 {
		t.Fatalf("projects %+v", ps)
	}
	rot, err := c.SecretRotate(strings.Repeat("3c", 32))
	must(t, err, "SecretRotate")
	if rot != 0 {
		t.Fatalf("rotated %d under the same key", rot)
	}
}
