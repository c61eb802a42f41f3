package telegramfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// params are a request's parameters, from the query string and the body.
type params map[string]string

// maxBody bounds what the fake reads (the real limit for uploads is 10 MB for photos).
const maxBody = 20 << 20

// readParams reads parameters the ways the Bot API accepts them: query string,
// application/x-www-form-urlencoded, multipart/form-data (files: field → bytes) and JSON.
func readParams(r *http.Request) (params, map[string]upload, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	files := map[string]upload{}
	if r.Body == nil || r.Method == http.MethodGet {
		return p, files, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return p, files, errors.New("can't parse request body")
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return p, files, errors.New("can't parse multipart request body")
		}
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
		for k, fh := range r.MultipartForm.File {
			files[k] = readUpload(fh[0])
		}
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
			return p, files, errors.New("can't parse JSON object")
		}
		for k, raw := range m {
			p[k] = jsonParam(raw)
		}
	default:
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return p, files, nil
}

// jsonParam turns a JSON value into the string a form would carry: strings unquoted, numbers
// and booleans as written, objects and arrays as JSON.
func jsonParam(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func itoa(n int) string { return strconv.Itoa(n) }

// boolParam reads a boolean parameter as the Bot API does ("true", "1").
func boolParam(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

// upload is a file sent in a multipart request: its size and whether its bytes are an image
// (Telegram decodes an uploaded photo and refuses one it cannot: IMAGE_PROCESS_FAILED).
type upload struct {
	size  int
	image bool
}

func readUpload(fh *multipart.FileHeader) upload {
	u := upload{size: int(fh.Size)}
	f, err := fh.Open()
	if err != nil {
		return u
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	u.image = strings.HasPrefix(http.DetectContentType(head[:n]), "image/")
	return u
}
