// Command tlsclose-httpget-go GETs a URL with net/http as an application
// does (Client.Get, then io.ReadAll of the body) and saves the body: exit 0
// when both reported success, 1 with the error on standard error otherwise.
// Usage: tlsclose-httpget-go URL OUTPUT-FILE; --version prints the Go
// release. The certificate is not verified: the endpoint table is about how
// connections end, not about trust.
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"time"
)

func get(url string) ([]byte, error) {
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			ForceAttemptHTTP2: false,
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("Go %s net/http, crypto/tls\n", runtime.Version())
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tlsclose-httpget-go URL OUTPUT-FILE")
		os.Exit(2)
	}
	body, err := get(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], body, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
