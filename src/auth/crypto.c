/* crypto: hashes and HMACs with algorithms fetched once; see crypto.h. */
#include "auth/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>

/* Fetched once, then read-only: a cache of library objects, not state. */
typedef struct crypto_algorithms {
    EVP_MD *sha256;
    EVP_MAC_CTX *hmac_template[2]; /* digest set, no key: duplicated per use */
} crypto_algorithms_t;

static crypto_algorithms_t crypto_algs;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static EVP_MAC_CTX *crypto_hmac_template(EVP_MAC *mac, const char *digest)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
                           OSSL_PARAM_construct_end()};
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void crypto_init(void)
{
    crypto_algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac) {
        crypto_algs.hmac_template[CRYPTO_SHA1] = crypto_hmac_template(mac, "SHA1");
        crypto_algs.hmac_template[CRYPTO_SHA256] = crypto_hmac_template(mac, "SHA256");
        EVP_MAC_free(mac); /* the contexts hold their own references */
    }
}

bool crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&crypto_once, crypto_init);
    unsigned int n = 0;
    return crypto_algs.sha256 && EVP_Digest(data, len, out, &n, crypto_algs.sha256, NULL) == 1 && n == 32;
}

bool crypto_hmac(int digest, const void *key, size_t key_len, const void *data, size_t len, uint8_t *out,
                 size_t *out_len)
{
    pthread_once(&crypto_once, crypto_init);
    if (digest != CRYPTO_SHA1 && digest != CRYPTO_SHA256)
        return false;
    EVP_MAC_CTX *tmpl = crypto_algs.hmac_template[digest];
    EVP_MAC_CTX *ctx = tmpl ? EVP_MAC_CTX_dup(tmpl) : NULL;
    size_t want = digest == CRYPTO_SHA256 ? 32 : 20;
    bool ok = ctx && EVP_MAC_init(ctx, key, key_len, NULL) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
              EVP_MAC_final(ctx, out, out_len, want) == 1 && *out_len == want;
    EVP_MAC_CTX_free(ctx);
    return ok;
}
