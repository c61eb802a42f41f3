package main

import (
	"strings"

	"herald/config"
	"herald/formatter"
	"herald/web"
)

// dashboardOptions: the article page previews each configured channel with its own format
// options; the session cookie is Secure when herald's public URL is https (TLS ended at a
// proxy) as well as on every TLS request.
func dashboardOptions(cfg *config.Config) web.DashboardOptions {
	o := web.DashboardOptions{SecureCookie: strings.HasPrefix(cfg.HTTP.PublicURL, "https://")}
	for _, ch := range cfg.Channels {
		o.Previews = append(o.Previews, formatter.PreviewTarget{Name: string(ch.Spec.Name), Kind: ch.Spec.Kind, Options: ch.Format})
	}
	return o
}
