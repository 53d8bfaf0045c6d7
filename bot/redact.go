package bot

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// withoutResponseURL returns err fit for the log: without the response_url it was posting to. A
// response_url is a credential: for 30 minutes anyone holding it can post as the app and replace
// the message it came with. Go's HTTP client puts the whole URL in its errors (*url.Error); the
// cause is kept, the URL is not.
func withoutResponseURL(err error, responseURL string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s response_url: %w", ue.Op, ue.Err)
	}
	if responseURL != "" && strings.Contains(err.Error(), responseURL) {
		return errors.New(strings.ReplaceAll(err.Error(), responseURL, "[response_url]"))
	}
	return err
}
