package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/config"
	"herald/ingest"
	"herald/queue"
)

type remoteFlags struct {
	server string
	token  string
}

func (r *remoteFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.server, "server", os.Getenv("HERALD_SERVER"), "talk to a running herald at this URL instead of Redis (env HERALD_SERVER)")
	// A token from a Kubernetes secret or an env file often ends in a newline, which Go's HTTP
	// client refuses in a header ("invalid header field value"); the server trims tokens too.
	r.token = strings.TrimSpace(os.Getenv("HERALD_API_TOKEN"))
	cmd.PreRunE = func(*cobra.Command, []string) error { return r.check() }
}

// check refuses a --server that is not an http(s) URL with a host (127.0.0.1:8080 without its
// scheme): a usage mistake, exit 2, said plainly rather than as a URL parser's complaint or
// "is herald serve running at ://?". The value is not repeated: it may be the API token,
// pasted into HERALD_SERVER for HERALD_API_TOKEN.
func (r *remoteFlags) check() error {
	if r.server == "" {
		return nil
	}
	u, err := url.Parse(r.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &exitError{code: 2, err: errors.New("--server (or HERALD_SERVER) is not a URL like http://127.0.0.1:8080: give the scheme and host of a running herald's API (the value is not repeated: it may be a token)")}
	}
	return nil
}

func newPublishCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var only []string
	cmd := &cobra.Command{
		Use:   "publish [FILE|-]",
		Short: "Publish one article (JSON) to its channels",
		Long: `publish reads one article as JSON (the same contract as POST /v1/articles) from FILE or
stdin, validates it, and queues one delivery per channel. Publishing the same article again
posts nothing new. It writes to the configured Redis, or with --server to a running herald's
API (token from HERALD_API_TOKEN). Invalid input prints every field error and queues nothing.
--channel sends it to the named channels only, as the article's "channels" field does.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A file that cannot be read is input to fix (2), as for herald correct: 1 says "run
			// it again", which a script retrying on it would do for ever.
			in, name, err := openInput(cmd, args)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer in.Close()
			data, err := io.ReadAll(io.LimitReader(in, article.MaxPayloadBytes+1))
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("reading %s: %w", name, err)}
			}
			if len(data) > article.MaxPayloadBytes {
				return &exitError{code: 2, err: fmt.Errorf("%s: article larger than 4 MiB", name)}
			}
			if rf.server != "" {
				return publishRemote(cmd, rf, withChannels(data, only))
			}
			a, err := article.DecodeBytes(data)
			if err != nil {
				return inputError(name, err)
			}
			if len(only) > 0 {
				a.Channels = only
			}
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			if len(cfg.Channels) == 0 {
				return &exitError{code: 2, err: errors.New("no channels are configured: pass --config FILE (or set HERALD_CONFIG), or publish through a running herald with --server URL")}
			}
			// Validate before touching Redis: bad input is answered without any connection.
			a.Normalize()
			if err := a.Validate(); err != nil {
				return inputError(name, err)
			}
			if _, err := cfg.Targets(&a); err != nil {
				return inputError(name, err)
			}
			var res *queue.Published
			err = withBroker(cmd, g, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				var err error
				res, err = (&ingest.Publisher{Config: cfg, Broker: b}).Publish(ctx, &a)
				return err
			})
			if err != nil {
				return inputError(name, err)
			}
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	rf.add(cmd)
	cmd.Flags().StringSliceVar(&only, "channel", nil, "send to this channel only (repeat, or NAME,NAME; replaces the article's channels)")
	return cmd
}

// withChannels sets the "channels" field of an article document for --channel. A document
// that is not a JSON object goes as it is: the API says what is wrong with it.
func withChannels(data []byte, only []string) []byte {
	if len(only) == 0 {
		return data
	}
	// A byte order mark, which the API ignores, would fail Unmarshal and drop --channel.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil || doc == nil {
		return data
	}
	doc["channels"], _ = json.Marshal(only)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(doc) != nil {
		return data
	}
	return b.Bytes()
}

func openInput(cmd *cobra.Command, args []string) (io.ReadCloser, string, error) {
	if len(args) == 0 || args[0] == "-" {
		return io.NopCloser(cmd.InOrStdin()), "stdin", nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, "", err
	}
	return f, args[0], nil
}

// inputError renders a validation error as a readable list and exits 2.
func inputError(name string, err error) error {
	var ve *article.ValidationError
	if errors.As(err, &ve) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: invalid article, nothing was queued:", name)
		for _, fe := range ve.Errors {
			fmt.Fprintf(&b, "\n  - %s: %s", fe.Field, fe.Message)
		}
		return &exitError{code: 2, err: errors.New(b.String())}
	}
	if strings.HasPrefix(err.Error(), "article:") {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w (nothing was queued)", name, err)}
	}
	return err
}

func publishRemote(cmd *cobra.Command, rf remoteFlags, data []byte) error {
	return remoteCall(cmd, rf, http.MethodPost, "/v1/articles", data)
}

// doRemote sends an API request and prints the JSON answer; a 4xx becomes a readable error.
func doRemote(cmd *cobra.Command, req *http.Request) error {
	body, err := remoteBody(req)
	if err != nil {
		return err
	}
	return writeAnswer(cmd.OutOrStdout(), body)
}

// writeAnswer prints an API answer as the command prints it without --server (printJSON's
// indentation); an answer that is not JSON goes as it is.
func writeAnswer(w io.Writer, body []byte) error {
	var b bytes.Buffer
	if json.Indent(&b, bytes.TrimSpace(body), "", "  ") != nil {
		_, err := w.Write(body)
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// remoteBody sends an API request and returns the answer's body; a non-2xx answer is an
// *exitError (2 for a 4xx, 1 for a 5xx) around an *apiStatusError.
func remoteBody(req *http.Request) ([]byte, error) {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w: is herald serve (or herald demo) running at %s?", req.URL.Redacted(), err, req.URL.Scheme+"://"+req.URL.Host)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return nil, answerError(req, resp, body)
	}
	return body, nil
}

// answerError is the error of a non-2xx answer: the API's message and field errors, a hint for
// a 401 or 403, exit 2 for a 4xx and 1 for a 5xx. An answer that is not the API's JSON (a proxy's
// 502 page) shows the start of its text rather than nothing.
func answerError(req *http.Request, resp *http.Response, body []byte) *exitError {
	var ae struct {
		Error  string               `json:"error"`
		Errors []article.FieldError `json:"errors"`
	}
	_ = json.Unmarshal(body, &ae)
	if ae.Error == "" {
		ae.Error = strings.Join(strings.Fields(string(body)), " ")
		if r := []rune(ae.Error); len(r) > 200 {
			ae.Error = string(r[:200]) + "…"
		}
	}
	// The answer may come from anything on the way (a proxy's page): shown, as a table cell is.
	msg := fmt.Sprintf("%s %s: %s: %s", req.Method, req.URL.Path, shown(resp.Status), shown(ae.Error))
	for _, fe := range ae.Errors {
		msg += fmt.Sprintf("\n  - %s: %s", shown(fe.Field), shown(fe.Message))
	}
	msg += tokenHint(resp.StatusCode, req.Header.Get("Authorization"))
	code := 1
	if resp.StatusCode < 500 {
		code = 2
	}
	return &exitError{code: code, err: &apiStatusError{status: resp.StatusCode, msg: msg}}
}

// tokenHint says what to do about a 401 or 403 of --server: the token comes from
// HERALD_API_TOKEN, which is easy to forget in a new shell.
func tokenHint(status int, authorization string) string {
	switch {
	case status == http.StatusUnauthorized && strings.TrimSpace(strings.TrimPrefix(authorization, "Bearer")) == "":
		return "\nHERALD_API_TOKEN is not set: --server needs the API's bearer token (the sandbox of make run: sandbox-token)"
	case status == http.StatusUnauthorized:
		return "\nthe token in HERALD_API_TOKEN is not one this herald accepts"
	case status == http.StatusForbidden:
		return "\nthe token in HERALD_API_TOKEN has a role that may not do this (see http.tokens)"
	}
	return ""
}

// apiStatusError is a non-2xx answer of the API.
type apiStatusError struct {
	status int
	msg    string
}

func (e *apiStatusError) Error() string { return e.msg }

// notFoundExit3 gives a 404 from the API the same exit status, 3, as a lookup in Redis that
// finds nothing.
func notFoundExit3(err error) error {
	var ae *apiStatusError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		return &exitError{code: 3, err: ae}
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
