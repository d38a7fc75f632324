package irsa

import "strings"

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (including ':' and '/', which path.Match would stop at) and '?'
// matches exactly one byte; everything else matches itself. Matching ignores
// ASCII case because IAM treats names case-insensitively, so a deny rule must
// not be dodged by writing "administratoraccess".
func globMatch(pattern, s string) bool {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	p, i := 0, 0
	// Position of the last '*' seen and the input position it is currently
	// assumed to have consumed up to; on a mismatch we let it eat one more
	// byte. This greedy backtracking is linear in practice and never recurses.
	star, starInput := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, starInput = p, i
			p++
		case star >= 0:
			starInput++
			p, i = star+1, starInput
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
