/*
 * callback: the vendor's upload callback.  A put policy's callbackUrl and
 * callbackBody ask that, once the upload is stored, vodup POST the body
 * (callbackBody with returnBody's $(var) expansion, values percent-encoded:
 * return_body.h) to the URL and answer the uploader with what it answered:
 *
 *   POST <callbackUrl>
 *   Content-Type: application/x-www-form-urlencoded
 *   Authorization: <AccessKey>:<urlsafe_b64(hex(HMAC-SHA1(SecretKey, path["?" query] "\n" body)))>
 *
 * The Authorization is the management token (auth/mgr_token.h) of the
 * token's AccessKey over the path and query of the request line and the
 * body as sent, what a WCS SDK's management-token function computes from
 * the callbackUrl and the body, so the app can check the request came from
 * vodup.  The token's SecretKey is never sent.  A 2xx whose body is a JSON
 * object (at most EVENT_HTTP_RESPONSE_MAX bytes) becomes the uploader's
 * 200 answer as it is; anything else (no connection, callback-timeout
 * spent, another status, a redirect, a body that is not a JSON object) is
 * a 579 whose message says which (never the URL, whose query may hold an
 * app's secret, nor the receiver's answer), and the upload stays stored:
 * the video is uploaded whatever the callback said.  returnUrl is ignored when
 * callbackUrl is set.  The call is synchronous, on the upload's worker
 * thread, bounded by webhook-connect-timeout and callback-timeout.
 */
#ifndef VODUP_UPLOAD_CALLBACK_H
#define VODUP_UPLOAD_CALLBACK_H

#include <stdbool.h>

#include "upload/return_body.h"

typedef struct upload_call upload_call_t;

/* At authorisation, before any byte: a callbackUrl must be http(s), have
 * no user information and pass callback-allow-hosts (else a 400 is set and
 * false returned).  True when the policy has none. */
bool upload_callback_check(upload_call_t *call);

/* After the upload is stored: when the policy has a callbackUrl, makes the
 * callback and sets the answer (200 with the callback's body, or 579), and
 * returns true; false (nothing done) when it has none. */
bool upload_callback_answer(upload_call_t *call, const return_vars_t *vars);

#endif
