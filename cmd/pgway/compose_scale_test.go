package main

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pgway/pgway/internal/config"
)

// TestDockerComposeScale keeps docker-compose.yml's scale profile (a primary, a streaming replica, PgBouncer, two
// pgway instances and nginx) consistent without running Docker: which services are in the profile, that what they
// depend on exists and starts first, that the files they mount or build exist, that both instances' environment
// loads as a pgway configuration pointing at PgBouncer, the replica and the primary as documented, and that the
// files under deploy/scale agree with it (PgBouncer's databases, users and pool mode, nginx's upstreams, the
// replication role and slot).
func TestDockerComposeScale(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	type service struct {
		Image       string            `yaml:"image"`
		Build       string            `yaml:"build"`
		User        string            `yaml:"user"`
		Profiles    []string          `yaml:"profiles"`
		Entrypoint  []string          `yaml:"entrypoint"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	}
	var compose struct {
		Services map[string]service `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	svcs := compose.Services
	scale := []string{"replica", "pgbouncer", "pgway-a", "pgway-b", "lb"}
	for name, s := range svcs {
		if want := slices.Contains(scale, name); slices.Contains(s.Profiles, "scale") != want {
			t.Errorf("service %s: profiles %v (scale profile: %v)", name, s.Profiles, want)
		}
		if !slices.Contains(scale, name) && len(s.Profiles) > 0 {
			t.Errorf("service %s of the default deployment has profiles %v", name, s.Profiles)
		}
		for dep, d := range s.DependsOn {
			target, ok := svcs[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			case len(target.Profiles) > 0 && !slices.Equal(target.Profiles, s.Profiles):
				t.Errorf("%s depends on %s of profiles %v", name, dep, target.Profiles)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join("../..", src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			}
		}
		if s.Build != "" {
			if _, err := os.Stat(filepath.Join("../..", s.Build, "Dockerfile")); err != nil && s.Build != "." {
				t.Errorf("%s builds %s: %v", name, s.Build, err)
			}
		}
	}
	for _, name := range scale {
		if _, ok := svcs[name]; !ok {
			t.Fatalf("scale profile: service %s missing", name)
		}
	}
	// Start order: the replica after the primary, the instances after the migration, PgBouncer and the
	// replica, the load balancer after both instances are healthy.
	for name, deps := range map[string][]string{"replica": {"db"}, "pgbouncer": {"db"},
		"pgway-a": {"migrate", "pgbouncer", "replica"}, "pgway-b": {"migrate", "pgbouncer", "replica"}, "lb": {"pgway-a", "pgway-b"}} {
		for _, d := range deps {
			if _, ok := svcs[name].DependsOn[d]; !ok {
				t.Errorf("%s does not depend on %s", name, d)
			}
		}
	}

	// The primary allows replication, as the replica connects.
	if !slices.ContainsFunc(svcs["db"].Volumes, func(v string) bool {
		return strings.HasPrefix(v, "./deploy/scale/primary-init.sh:/docker-entrypoint-initdb.d/")
	}) {
		t.Error("db does not run deploy/scale/primary-init.sh at initdb")
	}
	initSh := readText(t, "../../deploy/scale/primary-init.sh")
	replica := svcs["replica"]
	if !strings.Contains(initSh, "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '"+replica.Environment["REPLICATION_PASSWORD"]+"'") ||
		!strings.Contains(initSh, "host replication replicator all") {
		t.Errorf("primary-init.sh does not create the replicator role with REPLICATION_PASSWORD and its pg_hba line:\n%s", initSh)
	}
	replicaSh := readText(t, "../../deploy/scale/replica.sh")
	for _, want := range []string{"pg_basebackup", " -R ", "-X stream", "-S pgway_replica", `"$PRIMARY_HOST"`, "hot_standby=on", "exec postgres"} {
		if !strings.Contains(replicaSh, want) {
			t.Errorf("replica.sh lacks %q", want)
		}
	}
	if replica.Environment["PRIMARY_HOST"] != "db" || replica.User != "postgres" || replica.Image != svcs["db"].Image ||
		!slices.Contains(replica.Entrypoint, "/usr/local/bin/replica.sh") {
		t.Errorf("replica: %+v", replica)
	}

	// PgBouncer: transaction pooling in front of db, knowing the authenticator's password.
	ini := readText(t, "../../deploy/scale/pgbouncer/pgbouncer.ini")
	for _, re := range []string{`(?m)^pool_mode = transaction$`, `(?m)^app = host=db port=5432 dbname=app$`, `(?m)^listen_port = 6432$`,
		`(?m)^auth_file = /etc/pgbouncer/userlist.txt$`} {
		if !regexp.MustCompile(re).MatchString(ini) {
			t.Errorf("pgbouncer.ini does not match %s", re)
		}
	}
	users := readText(t, "../../deploy/scale/pgbouncer/userlist.txt")
	dockerfile := readText(t, "../../deploy/scale/pgbouncer/Dockerfile")
	if !strings.Contains(dockerfile, "apt-get install -y --no-install-recommends pgbouncer") ||
		!strings.Contains(dockerfile, "COPY pgbouncer.ini userlist.txt /etc/pgbouncer/") || !strings.Contains(dockerfile, "USER postgres") {
		t.Errorf("deploy/scale/pgbouncer/Dockerfile:\n%s", dockerfile)
	}

	// Both instances: the same configuration, which loads, and points where the README says.
	a, b := svcs["pgway-a"], svcs["pgway-b"]
	if !sameEnv(a.Environment, b.Environment) || slices.Equal(a.Ports, b.Ports) {
		t.Errorf("pgway-a and pgway-b differ in environment or share ports: %v %v", a.Ports, b.Ports)
	}
	cfg, err := config.Load("", func(k string) string { return a.Environment[k] }, nil)
	if err != nil {
		t.Fatalf("pgway-a's environment: %v", err)
	}
	host := func(uri string) (string, *url.URL) {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		return u.Host, u
	}
	if h, u := host(cfg.DBURI); h != "pgbouncer:6432" || u.Path != "/app" || cfg.DBPreparedStatements {
		t.Errorf("db-uri %s (prepared statements %v): want PgBouncer with db-prepared-statements = false", cfg.DBURI, cfg.DBPreparedStatements)
	} else if pw, _ := u.User.Password(); !strings.Contains(users, `"`+u.User.Username()+`" "`+pw+`"`) {
		t.Errorf("userlist.txt lacks %s's password", u.User.Username())
	}
	if h, _ := host(cfg.DBListenerURI); h != "db:5432" {
		t.Errorf("db-listener-uri %s: want db itself", cfg.DBListenerURI)
	}
	if len(cfg.DBReplicaURIs) != 1 {
		t.Fatalf("db-replica-uris %v", cfg.DBReplicaURIs)
	}
	if h, _ := host(cfg.DBReplicaURIs[0]); h != "replica:5432" || cfg.DBReplicaMaxLag.IsZero() {
		t.Errorf("db-replica-uris %v, max lag %v", cfg.DBReplicaURIs, cfg.DBReplicaMaxLag)
	}
	if cfg.AdminServerPort == 0 || a.Healthcheck == nil || !slices.Contains(a.Healthcheck.Test, "--ready") {
		t.Error("the instances need the admin server for their --ready health check")
	}

	// nginx balances the two instances, on the port they serve.
	nginx := readText(t, "../../deploy/scale/nginx.conf")
	for _, want := range []string{"server pgway-a:3000", "server pgway-b:3000", "proxy_pass http://pgway;", "proxy_buffering off;"} {
		if !strings.Contains(nginx, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if !slices.ContainsFunc(svcs["lb"].Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/scale/nginx.conf:") }) {
		t.Error("lb does not mount deploy/scale/nginx.conf")
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameEnv(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
