package auth

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Role is what a person may do. Each role may do everything the one
// before it may: a viewer reads, an admin also changes the server.
type Role int

const (
	// NoRole reads only what is public.
	NoRole Role = iota
	// Viewer reads the query API, every board and the console, and works
	// the follow-up inbox (supervisors, team leads).
	Viewer
	// Admin is a viewer that may also reload, profile and redrive.
	Admin
)

// String names the role as documented and as sessions carry it.
func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, bool) {
	switch s {
	case "viewer":
		return Viewer, true
	case "admin":
		return Admin, true
	}
	return NoRole, false
}

// MaxUserName is the longest user name, in characters.
const MaxUserName = 64

// ValidUserName reports whether s may name a person: 1 to MaxUserName
// letters, digits, marks, spaces and the characters . _ - @ + ' (an e-mail
// address, "Dana O'Neil"). No control characters, no markup characters, no
// ':' or ',' (the separators of viewer_tokens): a name from a configuration
// or a proxy header can then be shown and logged without surprises, though
// every view still escapes it.
func ValidUserName(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxUserName || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
		case r == ' ', r == '.', r == '_', r == '-', r == '@', r == '+', r == '\'':
		default:
			return false
		}
	}
	return true
}

// UserNameRule says what ValidUserName accepts, for error messages.
const UserNameRule = "1 to 64 letters, digits, spaces and . _ - @ + '"

// NamedToken is one configured viewer: a person's name and their token
// (in the clear, or as "sha256:<hex>").
type NamedToken struct {
	Name  string
	Token string
}

// ParseNamedToken reads "name:token" (token in the clear or "sha256:<hex>").
func ParseNamedToken(s string) (NamedToken, error) {
	name, tok, ok := strings.Cut(s, ":")
	if !ok || tok == "" {
		return NamedToken{}, fmt.Errorf("want name:token, like dana:%s…", HashPrefix)
	}
	if !ValidUserName(name) {
		return NamedToken{}, fmt.Errorf("name %q: want %s", name, UserNameRule)
	}
	if name == strings.TrimSuffix(HashPrefix, ":") {
		return NamedToken{}, fmt.Errorf("a viewer needs a name before its token, like dana:%s…", HashPrefix)
	}
	return NamedToken{Name: name, Token: tok}, nil
}

// User is one person a viewer token names.
type User struct {
	Name string
	Hash Hash
}

// Users is the set of viewer tokens, each with the name of whom it opens
// for.
type Users struct {
	users []User
}

// NewUsers takes the configured viewers; a hash that does not parse (the
// config has validated them) is never matched.
func NewUsers(viewers ...NamedToken) *Users {
	u := &Users{}
	for _, v := range viewers {
		if h, ok := configuredHash(v.Token); ok {
			u.users = append(u.users, User{Name: v.Name, Hash: h})
		}
	}
	return u
}

// Empty reports whether no viewer is configured.
func (u *Users) Empty() bool { return u == nil || len(u.users) == 0 }

// Match returns the user whose token presented is, in constant time over
// all of them.
func (u *Users) Match(presented string) (User, bool) {
	if u == nil {
		return User{}, false
	}
	hashes := make([]Hash, len(u.users))
	for i, v := range u.users {
		hashes[i] = v.Hash
	}
	if i := matchIndex(hashes, presented); i >= 0 {
		return u.users[i], true
	}
	return User{}, false
}

// Holds reports whether a user of this name still has the token whose id
// (under idOf, a keyed digest: see session.Codec.TokenID) is id: how a
// session made from a token learns that the token was removed.
func (u *Users) Holds(name, id string, idOf func(Hash) string) bool {
	if u == nil {
		return false
	}
	found := false
	for _, v := range u.users {
		if v.Name == name && subtle.ConstantTimeCompare([]byte(idOf(v.Hash)), []byte(id)) == 1 {
			found = true
		}
	}
	return found
}

// Match returns the hash of the token presented is, in constant time.
func (t *Tokens) Match(presented string) (Hash, bool) {
	if t == nil {
		return Hash{}, false
	}
	if i := matchIndex(t.hashes, presented); i >= 0 {
		return t.hashes[i], true
	}
	return Hash{}, false
}

// Holds reports whether one of the tokens has the id id under idOf.
func (t *Tokens) Holds(id string, idOf func(Hash) string) bool {
	if t == nil {
		return false
	}
	found := false
	for _, h := range t.hashes {
		if subtle.ConstantTimeCompare([]byte(idOf(h)), []byte(id)) == 1 {
			found = true
		}
	}
	return found
}
