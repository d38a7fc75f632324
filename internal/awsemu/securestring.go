package awsemu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// sealSecureString returns the opaque value a SecureString parameter shows
// without WithDecryption, standing in for the KMS ciphertext AWS returns. It
// is deterministic so that responses are reproducible.
func sealSecureString(keyID, name string, version int64, plaintext string) string {
	key := sha256.Sum256([]byte("awsemu-kms:" + keyID))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	nonceSource := sha256.Sum256([]byte(name + ":" + strconv.FormatInt(version, 10)))
	nonce := nonceSource[:aead.NonceSize()]
	sealed := aead.Seal(append([]byte{}, nonce...), nonce, []byte(plaintext), []byte(keyID))
	return base64.StdEncoding.EncodeToString(sealed)
}
