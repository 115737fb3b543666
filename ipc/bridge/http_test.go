package bridge

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// listenHTTPTest serves HTTP at /x on a free port of 127.0.0.1.
func listenHTTPTest(t *testing.T, opts EndpointOptions) (*httpListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := listenHTTP(ln, "/x", opts)
	t.Cleanup(func() { l.Close() })
	return l, "http://" + ln.Addr().String() + "/x"
}

// post POSTs body to url and returns the status and body of the answer.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(p)
}

// TestHTTPExchange: the body is the one message, the reply the response.
func TestHTTPExchange(t *testing.T) {
	l, url := listenHTTPTest(t, EndpointOptions{})
	go func() {
		mc, err := l.Accept()
		if err != nil {
			return
		}
		p, _ := mc.ReadMessage()
		mc.WriteMessage(append([]byte("re: "), p...))
		if err := mc.WriteMessage([]byte("more")); err == nil {
			t.Error("a second reply to one request was taken")
		}
	}()
	if status, body := post(t, url, "hi"); status != 200 || body != "re: hi" {
		t.Fatalf("got %d %q", status, body)
	}
}

// TestHTTPBounds: past MaxRequests a request is answered 503 at once.
func TestHTTPBounds(t *testing.T) {
	l, url := listenHTTPTest(t, EndpointOptions{HTTP: HTTPOptions{MaxRequests: 1, Timeout: time.Minute}})
	first := make(chan int, 1)
	go func() {
		resp, err := http.Post(url, "text/plain", strings.NewReader("wait"))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	mc, err := l.Accept() // the first request is in, and holds the one slot
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post(t, url, "second"); status != 503 || !strings.Contains(body, "1 requests are being answered") {
		t.Fatalf("a request past MaxRequests: %d %q, want 503", status, body)
	}
	mc.ReadMessage()
	mc.WriteMessage([]byte("done"))
	if status := <-first; status != 200 {
		t.Fatalf("the first request: %d, want 200", status)
	}
}

// TestHTTPTimeout: a request left unanswered is a 504 after the timeout.
func TestHTTPTimeout(t *testing.T) {
	l, url := listenHTTPTest(t, EndpointOptions{HTTP: HTTPOptions{Timeout: 200 * time.Millisecond}})
	done := make(chan struct{})
	defer close(done)
	go func() {
		if mc, err := l.Accept(); err == nil {
			defer mc.Close()
			mc.ReadMessage()
			<-done // never answers
		}
	}()
	if status, body := post(t, url, "x"); status != 504 || !strings.Contains(body, "no reply within 200ms") {
		t.Fatalf("an unanswered request: %d %q, want 504", status, body)
	}
}
