package config

import (
	"strings"
	"testing"
)

// The SSO header needs the proxies it is believed from, and the admin list
// needs the header.
func TestTrustedUserHeaderNeedsProxies(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PULSEBOARD_TRUSTED_USER_HEADER": "X-Forwarded-User"}, "PULSEBOARD_TRUSTED_USER_HEADER=\"X-Forwarded-User\": needs trusted_proxies"},
		{map[string]string{"PULSEBOARD_TRUSTED_ADMIN_USERS": "ops"}, "PULSEBOARD_TRUSTED_ADMIN_USERS=\"ops\": needs trusted_user_header"},
	} {
		_, err := load(nil, fakeEnv(c.env), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.env, err, c.want)
		}
	}
	c, err := load(nil, fakeEnv(map[string]string{"PULSEBOARD_TRUSTED_USER_HEADER": "x-forwarded-user", "PULSEBOARD_TRUSTED_PROXIES": "10.0.0.7, 10.1.0.0/16"}), "")
	if err != nil || c.TrustedUserHeader != "X-Forwarded-User" || len(c.TrustedProxies) != 2 {
		t.Errorf("%+v, %v", c, err)
	}
}
