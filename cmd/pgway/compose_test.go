package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pgway/pgway/internal/config"
)

// TestDockerCompose keeps docker-compose.yml and the Dockerfile correct without running Docker: the services,
// images, ports and environment variables must be the ones the README documents, and every PGRST_* variable
// must be a configuration key pgway knows.
func TestDockerCompose(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	docker := string(readme)
	if i := strings.Index(docker, "## Docker"); i >= 0 {
		docker = docker[i:]
		if j := strings.Index(docker[3:], "\n## "); j >= 0 {
			docker = docker[:j+3]
		}
	} else {
		t.Fatal(`README has no "## Docker" section`)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"db", "migrate", "pgway"} {
		if _, ok := compose.Services[name]; !ok {
			t.Fatalf("service %s missing", name)
		}
	}
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known["PGRST_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))] = true
	}
	for name, svc := range compose.Services {
		if !strings.Contains(docker, "`"+name+"`") {
			t.Errorf("README Docker section does not name service %s", name)
		}
		if svc.Image != "" && !strings.Contains(docker, svc.Image) {
			t.Errorf("README Docker section does not mention image %s", svc.Image)
		}
		for _, p := range svc.Ports {
			if !strings.Contains(docker, p) {
				t.Errorf("README Docker section does not mention port %s of %s", p, name)
			}
		}
		for k := range svc.Environment {
			if !strings.Contains(docker, k) {
				t.Errorf("README Docker section does not mention %s of %s", k, name)
			}
			if strings.HasPrefix(k, "PGRST_") && !known[k] {
				t.Errorf("%s of %s is not a pgway configuration key", k, name)
			}
		}
	}
	if m := compose.Services["migrate"]; !slices.Equal(m.Command, []string{"migrate", "up"}) || m.DependsOn["db"].Condition != "service_healthy" {
		t.Errorf("migrate must run `migrate up` after db is healthy: %+v", m)
	}
	if p := compose.Services["pgway"]; p.DependsOn["migrate"].Condition != "service_completed_successfully" ||
		!slices.Contains(p.Ports, "3000:3000") || p.Environment["PGRST_DB_SCHEMAS"] != "api_v2,api_v1" {
		t.Errorf("pgway must serve api_v2,api_v1 on 3000 after migrate: %+v", p)
	}
	// pgway runs as PostgREST's image: no command (the environment alone), and a health check with --ready.
	if p := compose.Services["pgway"]; len(p.Command) != 0 || !slices.Contains(p.Healthcheck.Test, "--ready") ||
		p.Environment["PGRST_ADMIN_SERVER_PORT"] == "" {
		t.Errorf("pgway must run with no command and check its health with --ready on the admin server: %+v", p)
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(df)
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "./cmd/pgway", "EXPOSE 3000",
		`ENTRYPOINT ["/usr/local/bin/pgway"]`, "ln -s pgway /out/bin/postgrest", "/bin/"} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(d, "\nCMD ") {
		t.Error("Dockerfile must have no CMD: without arguments pgway serves with the environment, as postgrest")
	}
	if strings.Count(d, "\nFROM ") < 1 || strings.Count(d, "FROM ") < 2 {
		t.Error("Dockerfile must be multi-stage")
	}
}
