package awsemu

import (
	"encoding/base64"
	"errors"
	"sort"
)

var errInvalidMarker = errors.New("invalid pagination marker")

// paginate returns up to limit (>= 1) items following marker and the marker
// for the next page, empty on the last page. items must be sorted by key; a
// marker names the last key returned, so pages stay stable while items are
// added or removed between calls, as AWS's opaque tokens do.
func paginate[T any](items []T, key func(T) string, marker string, limit int) ([]T, string, error) {
	start := 0
	if marker != "" {
		last, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil || len(last) == 0 {
			return nil, "", errInvalidMarker
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > string(last) })
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if end == len(items) || len(page) == 0 {
		return page, "", nil
	}
	return page, base64.RawURLEncoding.EncodeToString([]byte(key(page[len(page)-1]))), nil
}
