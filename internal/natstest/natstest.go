// Package natstest runs clusters of real nats-server processes for the
// tests of ipcctl's NATS support, on loopback with ports the kernel picks.
//
// The binaries are found in this order: the file named by $NATS_SERVER
// (or $NATS_CLI for the nats command), the PATH, then a cache directory
// where they are built once with `go install` from the Go module proxy,
// so that `go test ./...` works on a machine that has only Go.
//
//	c, err := natstest.Start(dir, 3) // three servers joined by routes
//	defer c.Stop()
//	os.Setenv("NATS_URL", c.URLs())
//	c.Kill(0)                        // SIGKILL one; the others go on
//	c.Restart(0)                     // the same ports again
package natstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The versions built when no binary is found.
const (
	ServerModule = "github.com/nats-io/nats-server/v2@v2.15.2"
	CLIModule    = "github.com/nats-io/natscli/nats@v0.5.0"
)

// startTimeout bounds the wait for a server to write its ports and for
// the routes of a cluster to form: long, for a loaded machine.
const startTimeout = 60 * time.Second

// ServerBinary returns the path of a nats-server to run.
func ServerBinary() (string, error) {
	return binary("NATS_SERVER", "nats-server", ServerModule)
}

// CLIBinary returns the path of the nats command-line client.
func CLIBinary() (string, error) {
	return binary("NATS_CLI", "nats", CLIModule)
}

// Server is one nats-server process of a Cluster.
type Server struct {
	Name string
	// URL is the client URL, nats://127.0.0.1:PORT.
	URL string

	cmd                    *exec.Cmd
	done                   chan struct{}
	port, cport, mport     string
	dir, bin, cluster, log string
	routes                 []string
	cfg                    Config
}

// Config is what the servers of a cluster run with beyond the defaults.
type Config struct {
	// Extra is more of the server's configuration file: a tls block, an
	// operator.
	Extra string
	// TLS says that Extra makes the clients speak TLS: the URLs are
	// tls://.
	TLS bool
}

// Cluster is a set of nats-server processes joined by routes.
type Cluster struct {
	Servers []*Server
}

// Start runs n servers joined by routes, their files under dir, and waits
// until every one has a route to every other.
func Start(dir string, n int) (*Cluster, error) {
	return StartConfig(dir, n, Config{})
}

// StartConfig is Start with servers configured by cfg.
func StartConfig(dir string, n int, cfg Config) (*Cluster, error) {
	bin, err := ServerBinary()
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	name := fmt.Sprintf("c%d", os.Getpid())
	var routes []string
	for i := 0; i < n; i++ {
		s := &Server{
			Name: fmt.Sprintf("s%d", i+1), bin: bin, cluster: name,
			dir: filepath.Join(dir, fmt.Sprintf("nats%d", i+1)), port: "-1", cport: "-1", mport: "-1",
			routes: routes, cfg: cfg,
		}
		if err := s.start(); err != nil {
			c.Stop()
			return nil, err
		}
		c.Servers = append(c.Servers, s)
		routes = append(routes, "nats://127.0.0.1:"+s.cport)
	}
	if err := c.WaitRoutes(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// URLs returns the client URLs of every server, comma-separated as
// NATS_URL and --nats take them.
func (c *Cluster) URLs() string {
	var urls []string
	for _, s := range c.Servers {
		urls = append(urls, s.URL)
	}
	return strings.Join(urls, ",")
}

// Kill ends server i with SIGKILL and waits for it to be gone.
func (c *Cluster) Kill(i int) error {
	s := c.Servers[i]
	if s.cmd == nil {
		return fmt.Errorf("server %s is not running", s.Name)
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
	return nil
}

// Signal sends sig to server i: SIGSTOP makes a server that takes
// nothing more, SIGCONT lets it go on.
func (c *Cluster) Signal(i int, sig os.Signal) error {
	s := c.Servers[i]
	if s.cmd == nil {
		return fmt.Errorf("server %s is not running", s.Name)
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts server i again on the ports it had, and waits for its
// routes to form again.
func (c *Cluster) Restart(i int) error {
	s := c.Servers[i]
	if s.cmd != nil {
		return fmt.Errorf("server %s is running", s.Name)
	}
	s.routes = nil
	for _, o := range c.Servers {
		if o != s {
			s.routes = append(s.routes, "nats://127.0.0.1:"+o.cport)
		}
	}
	if err := s.start(); err != nil {
		return err
	}
	return c.WaitRoutes()
}

// RestartWith starts server i again as Restart does, configured by cfg
// from now on: a server whose operator changed its configuration.
func (c *Cluster) RestartWith(i int, cfg Config) error {
	c.Servers[i].cfg = cfg
	return c.Restart(i)
}

// Logged returns how many lines of the log of server i, over all its
// runs, hold substr.
func (c *Cluster) Logged(i int, substr string) int {
	b, _ := os.ReadFile(c.Servers[i].log)
	return strings.Count(string(b), substr)
}

// Stop kills every server still running.
func (c *Cluster) Stop() {
	for i, s := range c.Servers {
		if s.cmd != nil {
			c.Kill(i)
		}
	}
}

// WaitRoutes waits until every running server has a route to every other
// running server.
func (c *Cluster) WaitRoutes() error {
	want := -1
	for _, s := range c.Servers {
		if s.cmd != nil {
			want++
		}
	}
	deadline := time.Now().Add(startTimeout)
	for _, s := range c.Servers {
		if s.cmd == nil {
			continue
		}
		for {
			n, err := s.routeCount()
			if err == nil && n >= want {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nats-server %s: %d of %d routes after %v (%v); log in %s", s.Name, n, want, startTimeout, err, s.log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func (s *Server) routeCount() (int, error) {
	resp, err := http.Get("http://127.0.0.1:" + s.mport + "/routez")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var rz struct {
		NumRoutes int `json:"num_routes"`
		Routes    []struct {
			RemoteName string `json:"remote_name"`
		} `json:"routes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rz); err != nil {
		return 0, err
	}
	// A server may hold several routes (pooled) to one peer: count peers.
	peers := map[string]bool{}
	for _, r := range rz.Routes {
		peers[r.RemoteName] = true
	}
	return len(peers), nil
}

// start runs the server and waits for its ports file, which names the
// ports it took when asked for -1.
func (s *Server) start() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(s.dir, "*.ports"))
	for _, f := range old {
		os.Remove(f)
	}
	args := []string{
		"-a", "127.0.0.1", "-p", s.port, "-m", s.mport, "-n", s.Name,
		"--cluster", "nats://127.0.0.1:" + s.cport, "--cluster_name", s.cluster,
		"--ports_file_dir", s.dir,
	}
	if len(s.routes) > 0 {
		args = append(args, "--routes", strings.Join(s.routes, ","))
	}
	if s.cfg.Extra != "" {
		conf := filepath.Join(s.dir, "server.conf")
		if err := os.WriteFile(conf, []byte(s.cfg.Extra), 0o644); err != nil {
			return err
		}
		args = append(args, "-c", conf)
	}
	s.log = filepath.Join(s.dir, "log")
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a signal meant for the test's processes
	// does not reach it, and it dies with no orphan when killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	logf.Close()
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	if err := s.readPorts(); err != nil {
		cmd.Process.Kill()
		<-s.done
		s.cmd = nil
		return err
	}
	s.URL = "nats://127.0.0.1:" + s.port
	if s.cfg.TLS {
		s.URL = "tls://127.0.0.1:" + s.port
	}
	return nil
}

func (s *Server) readPorts() error {
	file := filepath.Join(s.dir, fmt.Sprintf("%s_%d.ports", filepath.Base(s.bin), s.cmd.Process.Pid))
	deadline := time.Now().Add(startTimeout)
	for {
		var ports struct{ Nats, Monitoring, Cluster []string }
		b, err := os.ReadFile(file)
		if err == nil && json.Unmarshal(b, &ports) == nil &&
			len(ports.Nats) > 0 && len(ports.Monitoring) > 0 && len(ports.Cluster) > 0 {
			s.port, s.mport, s.cport = portOf(ports.Nats[0]), portOf(ports.Monitoring[0]), portOf(ports.Cluster[0])
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("nats-server %s exited at start: %s", s.Name, tail(s.log))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats-server %s wrote no ports file in %v: %s", s.Name, startTimeout, tail(s.log))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func portOf(url string) string {
	return url[strings.LastIndexByte(url, ':')+1:]
}

// tail returns the end of a log file, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// binary finds the program named by the variable env, then name on the
// PATH, then in the cache, building module there first if need be.
func binary(env, name, module string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	version := module[strings.LastIndexByte(module, '@')+1:]
	dir := filepath.Join(cache, "ipcctl-test", name+"-"+version)
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	return bin, install(dir, bin, module)
}

// install builds module into dir with go install, under a lock: the test
// binaries of several packages may want it at once.
func install(dir, bin, module string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	if _, err := os.Stat(bin); err == nil {
		return nil // built while we waited
	}
	cmd := exec.Command(goTool(), "install", module)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "CGO_ENABLED=0")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install %s: %v\n%s", module, err, out.String())
	}
	if _, err := os.Stat(bin); err != nil {
		return errors.New("go install " + module + " made no " + bin)
	}
	return nil
}

// goTool returns the go command of $GOROOT when it is set, else go from
// the PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}
