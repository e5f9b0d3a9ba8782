/*
 * test_sigv4.c - SigV4 verification: the published AWS vectors, requests
 * signed by botocore, and one case for every refusal.
 *
 * Vectors are facts, pasted, never computed here:
 *
 *   - SUITE: the AWS Signature Version 4 test suite (the .sreq files:
 *     request with its Authorization header), as mirrored in mhart/aws4
 *     test/aws-sig-v4-test-suite/; key AKIDEXAMPLE, secret
 *     wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
 *     us-east-1, service "service".  Left out: get-header-value-multiline
 *     (an obs-folded header the HTTP layer unfolds before we see it).
 *   - the IAM ListUsers example of the IAM user guide ("Create a signed AWS
 *     API request"): signature 5d672d79...b2f5d7.
 *   - BOTO: signed by Debian's botocore 1.29.27 (SigV4Auth, SigV4QueryAuth
 *     for "presigned") with the clock pinned to 20261121T085314Z, by this
 *     script (run with /usr/bin/python3), whose output was pasted below:
 *
 *       import datetime, hashlib, botocore.auth as A
 *       from botocore.awsrequest import AWSRequest
 *       from botocore.credentials import Credentials
 *       class Fixed(datetime.datetime):
 *           @classmethod
 *           def utcnow(cls): return cls(2026, 11, 21, 8, 53, 14)
 *       A.datetime.datetime = Fixed
 *       cred = Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')
 *       def sign(method, url, headers, body, service, cls=A.SigV4Auth, **kw):
 *           r = AWSRequest(method=method, url=url, data=body)
 *           for k, v in headers: r.headers[k] = v   # a repeated name adds a header
 *           cls(cred, service, 'us-east-1', **kw).add_auth(r)
 *           p = r.prepare()   # print p.method, p.url's path and query,
 *                             # r.headers.items() and p.body.hex()
 *
 *     json: POST / PutRecords JSON; cbor: the same in CBOR with
 *     Content-Length signed, as the Java SDKs send it; path:
 *     /FeatureGroup/a%20b/%41c/./d//e/../f%2Fg for sagemaker; query:
 *     ?b=2&a=3&a=1&d=x%20y&e=~%2F%2B&c; repeated: My-Header three times,
 *     one with inner runs of spaces; presigned: SigV4QueryAuth, expires=300;
 *     sha256: with X-Amz-Content-SHA256 the body's hash; unsigned: with
 *     X-Amz-Content-SHA256: UNSIGNED-PAYLOAD; datehdr: a Date header
 *     instead of X-Amz-Date (botocore writes it "... -0000"), for firehose.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/sigv4.h"
#include "test.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_NOW 1440938160LL /* 20150830T123600Z */
#define BOTO_NOW 1795251194LL  /* 20261121T085314Z */

/* ---- the vectors ------------------------------------------------------- */

static const struct {
    const char *name;
    const char *text;
} suite[] = {
    {"get-vanilla",
        "GET / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query",
        "GET / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query-order-key",
        "GET /?Param1=value2&Param1=Value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
    {"get-vanilla-query-order-key-case",
        "GET /?Param2=value2&Param1=value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-value",
        "GET /?Param1=value2&Param1=value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-query-unreserved",
        "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-empty-query-key",
        "GET /?Param1=value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
    {"get-vanilla-utf8-query",
        "GET /?\xe1""\x88""\xb4""=bar HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-unreserved",
        "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-utf8",
        "GET /\xe1""\x88""\xb4"" HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"get-header-key-duplicate",
        "GET / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "My-Header1:value2\n"
        "My-Header1:value2\n"
        "My-Header1:value1\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-order",
        "GET / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "My-Header1:value4\n"
        "My-Header1:value1\n"
        "My-Header1:value3\n"
        "My-Header1:value2\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-header-value-trim",
        "GET / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "My-Header1: value1\n"
        "My-Header2: \"a   b   c\"\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-relative",
        "GET /example/.. HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-relative-relative",
        "GET /example1/example2/../.. HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash",
        "GET // HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash-dot-slash",
        "GET /./ HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash-pointless-dot",
        "GET /./example HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
    {"get-slashes",
        "GET //example// HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-space",
        "GET /example space/ HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"post-vanilla",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-vanilla-query",
        "POST /?Param1=value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"post-vanilla-empty-query-value",
        "POST /?Param1=value1 HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"post-header-key-case",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-header-key-sort",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "My-Header1:value1\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "My-Header1:VALUE1\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"post-x-www-form-urlencoded",
        "POST / HTTP/1.1\n"
        "Content-Type:application/x-www-form-urlencoded\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a\n"
        "\n"
        "Param1=value1"},
    {"post-x-www-form-urlencoded-parameters",
        "POST / HTTP/1.1\n"
        "Content-Type:application/x-www-form-urlencoded; charset=utf8\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe\n"
        "\n"
        "Param1=value1"},
    {"post-sts-header-before",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
    {"post-sts-header-after",
        "POST / HTTP/1.1\n"
        "Host:example.amazonaws.com\n"
        "X-Amz-Date:20150830T123600Z\n"
        "X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
};

static const char iam_list_users[] =
    "GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\n"
    "Host: iam.amazonaws.com\n"
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"
    "X-Amz-Date: 20150830T123600Z\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

static const struct boto {
    const char *name;
    const char *service;
    const char *text;
    const char *body_hex;
} boto[] = {
    {"json", "kinesis",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Kinesis_20131202.PutRecords\n"
        "Content-Type: application/x-amz-json-1.1\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=3b36de41a41515ec479c5e433718700ebce4ce3c52d558a69e9f7d7f2ab4a12f",
        "7b225265636f726473223a205b7b2244617461223a20225955645763324a484f44303d222c2022506172746974696f6e4b6579223a202261227d5d2c202253747265616d4e616d65223a20227331227d"},
    {"cbor", "kinesis",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Kinesis_20131202.PutRecords\n"
        "Content-Type: application/x-amz-cbor-1.1\n"
        "Content-Length: 54\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, Signature=882c1e089771157be7944a23eb95d8b618e7bcfbce6cc2f44b5520f0018749a3",
        "bf6a53747265616d4e616d65627331675265636f7264739fbf64446174614568656c6c6f6c506172746974696f6e4b65796161ffffff"},
    {"path", "sagemaker",
        "GET /FeatureGroup/a%20b/%41c/./d//e/../f%2Fg HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/sagemaker/aws4_request, SignedHeaders=host;x-amz-date, Signature=c282aed8ed11762df4038c661cbbb091fa661dcb26d61d023015fbc2cff75793",
        ""},
    {"query", "kinesis",
        "GET /?b=2&a=3&a=1&d=x%20y&e=~%2F%2B&c HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=cab2d2c4a0f72b20b82b49baf4d21798c282e18c7137cd529b653f16b0fb42de",
        ""},
    {"repeated", "kinesis",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Kinesis_20131202.PutRecords\n"
        "My-Header: value4\n"
        "My-Header:   two   spaced    words  \n"
        "My-Header: value1\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=host;my-header;x-amz-date;x-amz-target, Signature=89b2637dfaeffbbcb75cd18a5f87416406eb8e31c7c86193f61e2fe6f28f9e6e",
        "7b225265636f726473223a205b7b2244617461223a20225955645763324a484f44303d222c2022506172746974696f6e4b6579223a202261227d5d2c202253747265616d4e616d65223a20227331227d"},
    {"presigned", "kinesis",
        "GET /?Action=ListStreams&Limit=10&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20261121T085314Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=78062ff4a6949cc60538c8c1c45e85bb2c5cda2ff23b33e27d24c1944b857bdb HTTP/1.1\n"
        "Host: 127.0.0.1:4599",
        ""},
    {"sha256", "kinesis",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Kinesis_20131202.PutRecords\n"
        "Content-Type: application/x-amz-json-1.1\n"
        "X-Amz-Content-SHA256: e16f4e9a811ab200daab8f8e3cbc428b3931b3ee098a6dd5556a985fd04202f1\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=2c0bd97866f794146593a773b441e87bc68de1ffcdb5abfc7a2e076b3ff35998",
        "7b225265636f726473223a205b7b2244617461223a20225955645763324a484f44303d222c2022506172746974696f6e4b6579223a202261227d5d2c202253747265616d4e616d65223a20227331227d"},
    {"unsigned", "kinesis",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Kinesis_20131202.PutRecords\n"
        "Content-Type: application/x-amz-json-1.1\n"
        "X-Amz-Content-SHA256: UNSIGNED-PAYLOAD\n"
        "X-Amz-Date: 20261121T085314Z\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=79665e886564eccf2ff816a428628658355bf957511be0b7cf6521d38c36cdbc",
        "7b225265636f726473223a205b7b2244617461223a20225955645763324a484f44303d222c2022506172746974696f6e4b6579223a202261227d5d2c202253747265616d4e616d65223a20227331227d"},
    {"datehdr", "firehose",
        "POST / HTTP/1.1\n"
        "Host: 127.0.0.1:4599\n"
        "X-Amz-Target: Firehose_20150804.PutRecord\n"
        "Content-Type: application/x-amz-json-1.1\n"
        "Date: Sat, 21 Nov 2026 08:53:14 -0000\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/firehose/aws4_request, SignedHeaders=content-type;date;host;x-amz-target, Signature=ebb9f051e2101a8f96f6d58f36a9f1ec1dd1320279c39e87e47f8b8cf914ae26",
        "7b2244656c697665727953747265616d4e616d65223a2264222c225265636f7264223a7b2244617461223a2261476b3d227d7d"},
};

static const struct boto *
vec(const char *name)
{
    for (size_t i = 0; i < sizeof(boto) / sizeof(boto[0]); i++)
        if (strcmp(boto[i].name, name) == 0)
            return &boto[i];
    abort();
}

/* ---- a request from raw text ------------------------------------------ */

#define MAXH 300

struct raw {
    char *text;                  /* owned copy the spans point into */
    struct http_header h[MAXH];
    char *owned[MAXH];           /* values replaced by the test */
    struct sigv4_request req;
    unsigned char *body;
};

/*
 * "METHOD TARGET HTTP/1.1\nName: value\n...[\n\nbody]": values lose their
 * leading and trailing white space, as the HTTP layer gives them; the
 * target runs to the last " HTTP/" (the suite's get-space has a space in
 * it).  body_hex, when given, is the body; else what follows a blank line.
 */
static void
raw_parse(struct raw *r, const char *text, const char *body_hex)
{
    char *p, *nl, *sp, *ver, *blank;

    memset(r, 0, sizeof(*r));
    r->text = strdup(text);
    blank = strstr(r->text, "\n\n");
    if (blank != NULL) {
        *blank = '\0';
        r->body = (unsigned char *)strdup(blank + 2);
        r->req.body_len = strlen(blank + 2);
    }
    p = r->text;
    nl = strchr(p, '\n');
    if (nl != NULL)
        *nl = '\0';
    sp = strchr(p, ' ');
    *sp = '\0';
    r->req.method = p;
    ver = strstr(sp + 1, " HTTP/");
    for (char *q = ver; q != NULL; q = strstr(q + 1, " HTTP/"))
        ver = q;
    *ver = '\0';
    r->req.target = sp + 1;
    p = nl ? nl + 1 : NULL;
    while (p != NULL && *p != '\0') {
        char *colon, *v, *end;

        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        colon = strchr(p, ':');
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        r->h[r->req.nheaders++] = (struct http_header){p, v};
        p = nl ? nl + 1 : NULL;
    }
    if (body_hex != NULL) {
        size_t n = strlen(body_hex) / 2;

        free(r->body);
        r->body = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned int b;

            sscanf(body_hex + 2 * i, "%2x", &b);
            r->body[i] = (unsigned char)b;
        }
        r->req.body_len = n;
    }
    if (r->body == NULL) {
        r->body = (unsigned char *)strdup("");
        r->req.body_len = 0;
    }
    r->req.headers = r->h;
    r->req.body = r->body;
}

static void
raw_boto(struct raw *r, const char *name)
{
    const struct boto *b = vec(name);

    raw_parse(r, b->text, b->body_hex);
}

static void
raw_release(struct raw *r)
{
    for (size_t i = 0; i < MAXH; i++)
        free(r->owned[i]);
    free(r->text);
    free(r->body);
}

/* Replace the value of the first header named name (which must exist). */
static void
raw_set(struct raw *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->req.nheaders; i++) {
        if (strcasecmp(r->h[i].name, name) == 0) {
            free(r->owned[i]);
            r->owned[i] = strdup(value);
            r->h[i].value = r->owned[i];
            return;
        }
    }
    abort();
}

static void
raw_add(struct raw *r, const char *name, const char *value)
{
    size_t i = r->req.nheaders++;

    r->owned[i] = strdup(value);
    r->h[i] = (struct http_header){name, r->owned[i]};
}

/* Drop the first header named name. */
static void
raw_del(struct raw *r, const char *name)
{
    for (size_t i = 0; i < r->req.nheaders; i++) {
        if (strcasecmp(r->h[i].name, name) == 0) {
            free(r->owned[i]);
            memmove(&r->h[i], &r->h[i + 1], (r->req.nheaders - i - 1) * sizeof(r->h[0]));
            memmove(&r->owned[i], &r->owned[i + 1],
                    (r->req.nheaders - i - 1) * sizeof(r->owned[0]));
            r->owned[--r->req.nheaders] = NULL;
            return;
        }
    }
    abort();
}

/* The value of header name with from replaced by to (once). */
static void
raw_edit(struct raw *r, const char *name, const char *from, const char *to)
{
    for (size_t i = 0; i < r->req.nheaders; i++) {
        if (strcasecmp(r->h[i].name, name) == 0) {
            const char *v = r->h[i].value, *at = strstr(v, from);
            char *n;

            if (at == NULL)
                abort();
            n = malloc(strlen(v) - strlen(from) + strlen(to) + 1);
            memcpy(n, v, (size_t)(at - v));
            memcpy(n + (at - v), to, strlen(to));
            memcpy(n + (at - v) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
            free(r->owned[i]);
            r->owned[i] = n;
            r->h[i].value = n;
            return;
        }
    }
    abort();
}

/* ---- the key store ------------------------------------------------------ */

struct keys {
    const char *id;
    const char *secret;
    int calls;
};

static bool
lookup(void *ctx, const char *key_id, char *buf, size_t size)
{
    struct keys *k = ctx;

    __atomic_add_fetch(&k->calls, 1, __ATOMIC_RELAXED);
    if (strcmp(key_id, k->id) != 0 || strlen(k->secret) >= size)
        return false;
    memcpy(buf, k->secret, strlen(k->secret) + 1);
    return true;
}

static struct keys the_keys = {AKID, SECRET, 0};

/*
 * Verify and check what every answer must keep: no secret (nor a piece of
 * one) in the message or key id, a type and 400 on failure, 200 and ""
 * on success.
 */
static enum sigv4_status
verify_in(const char *region, const struct sigv4_request *req, const char *service, int64_t now,
          struct sigv4_result *out)
{
    struct sigv4_verifier *v = sigv4_new(region, 900);

    memset(out, 0x7f, sizeof(*out));
    sigv4_verify(v, req, service, now, lookup, &the_keys, out);
    sigv4_free(v);
    CHECK(strlen(out->message) < sizeof(out->message));
    CHECK(strstr(out->message, SECRET) == NULL);
    CHECK(strstr(out->message, "wJalrXUtnFEMI") == NULL);
    CHECK(strstr(out->message, "EXAMPLEKEY") == NULL);
    CHECK(strstr(out->key_id, "wJalrXUtnFEMI") == NULL);
    if (out->status == SIGV4_OK) {
        CHECK_INT(out->http_status, 200);
        CHECK_STR(out->type, "");
    } else {
        CHECK_INT(out->http_status, 400);
        CHECK(out->type != NULL && out->type[0] != '\0');
        CHECK(out->message[0] != '\0');
    }
    return out->status;
}

static enum sigv4_status
verify(const struct sigv4_request *req, const char *service, int64_t now,
       struct sigv4_result *out)
{
    return verify_in("us-east-1", req, service, now, out);
}

/* The head-only pass, then the full one, must agree unless the body decides. */
static enum sigv4_status
verify_head(const struct sigv4_request *req, const char *service, int64_t now,
            struct sigv4_result *out)
{
    struct sigv4_request head = *req;

    head.body = NULL;
    head.body_len = 0;
    return verify(&head, service, now, out);
}

/* ---- the published vectors and botocore's ------------------------------ */

TEST(aws_test_suite)
{
    for (size_t i = 0; i < sizeof(suite) / sizeof(suite[0]); i++) {
        struct raw r;
        struct sigv4_result out;

        raw_parse(&r, suite[i].text, NULL);
        verify(&r.req, "service", SUITE_NOW, &out);
        if (out.status != SIGV4_OK)
            printf("  %s: %s\n", suite[i].name, out.message);
        CHECK_INT(out.status, SIGV4_OK);
        CHECK_STR(out.key_id, AKID);
        raw_release(&r);
    }
}

TEST(iam_list_users_example)
{
    struct raw r;
    struct sigv4_result out;

    raw_parse(&r, iam_list_users, NULL);
    CHECK_INT(verify(&r.req, "iam", SUITE_NOW, &out), SIGV4_OK);
    /* One more request-target byte and it no longer verifies. */
    r.req.target = "/?Action=ListUsers&Version=2010-05-09";
    CHECK_INT(verify(&r.req, "iam", SUITE_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_release(&r);
}

TEST(botocore_vectors)
{
    for (size_t i = 0; i < sizeof(boto) / sizeof(boto[0]); i++) {
        struct raw r;
        struct sigv4_result out;

        raw_parse(&r, boto[i].text, boto[i].body_hex);
        verify(&r.req, boto[i].service, BOTO_NOW, &out);
        if (out.status != SIGV4_OK)
            printf("  %s: %s\n", boto[i].name, out.message);
        CHECK_INT(out.status, SIGV4_OK);
        CHECK_INT(verify_head(&r.req, boto[i].service, BOTO_NOW, &out), SIGV4_OK);
        raw_release(&r);
    }
}

/* ---- every refusal ---------------------------------------------------- */

TEST(missing)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    raw_del(&r, "Authorization");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_MISSING);
    CHECK_STR(out.type, "MissingAuthenticationTokenException");
    CHECK_STR(out.message, "Missing Authentication Token");
    CHECK_STR(out.key_id, "");
    /* Another scheme is no signature at all. */
    raw_add(&r, "Authorization", "Bearer wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_MISSING);
    raw_release(&r);
}

TEST(incomplete_authorization_shapes)
{
    static const struct {
        const char *auth;
        const char *says;
    } cases[] = {
        {"AWS4-HMAC-SHA256",
         "Authorization header requires 'Credential' parameter. Authorization header requires "
         "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=host;x-amz-date",
         "Authorization header requires 'Signature' parameter."},
        {"AWS4-HMAC-SHA256 Credential=, SignedHeaders=host;x-amz-date, Signature=00",
         "Authorization header requires 'Credential' parameter."},
        /* The space after "Credential=" of a pasted key (aws-sdk-go#289). */
        {"AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=00",
         "'AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request' not a valid key=value pair "
         "(missing equal-sign) in Authorization header."},
        {"AWS4-HMAC-SHA256 Credential=a/b, Credential=c/d, SignedHeaders=host, Signature=00",
         "more than one 'Credential' parameter"},
        {"AWS4-HMAC-SHA512 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
         "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now)."},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
         "Credential must have exactly 5 slash-delimited elements, e.g. "
         "keyid/date/region/service/term, got 'AKIDEXAMPLE/20261121/us-east-1/kinesis'"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request/x, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
         "Credential must have exactly 5 slash-delimited elements"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-missing, Signature=00",
         "Signed header 'x-missing' is not in the request."},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-target, Signature=00",
         "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct raw r;
        struct sigv4_result out;

        raw_boto(&r, "json");
        raw_set(&r, "Authorization", cases[i].auth);
        if (verify_head(&r.req, "kinesis", BOTO_NOW, &out) != SIGV4_INCOMPLETE)
            printf("  case %zu: %d %s\n", i, out.status, out.message);
        CHECK_INT(out.status, SIGV4_INCOMPLETE);
        CHECK_HAS(out.message, cases[i].says);
        raw_release(&r);
    }
}

TEST(incomplete_dates)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    raw_del(&r, "X-Amz-Date");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_STR(out.type, "IncompleteSignatureException");
    CHECK_STR(out.message, "Authorization header requires existence of either a 'X-Amz-Date' "
                           "or a 'Date' header.");
    raw_add(&r, "X-Amz-Date", "2026-11-21T08:53:14Z");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_STR(out.message, "Date must be in ISO-8601 'basic format'. Got '2026-11-21T08:53:14Z'. "
                           "See http://en.wikipedia.org/wiki/ISO_8601");
    raw_set(&r, "X-Amz-Date", "20260230T085314Z"); /* 30 February */
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    raw_set(&r, "X-Amz-Date", "20261121T085314Z");
    raw_add(&r, "X-Amz-Date", "20261121T085314Z");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    raw_release(&r);

    /* The Date header, when it is the date, must be signed too. */
    raw_boto(&r, "datehdr");
    raw_edit(&r, "Authorization", "content-type;date;host", "content-type;host");
    CHECK_INT(verify_head(&r.req, "firehose", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_STR(out.message, "'Date' must be a 'SignedHeader' in the AWS Authorization.");
    raw_set(&r, "Date", "Saturday, 21-Nov-26 08:53:14 GMT"); /* RFC 850: not taken */
    CHECK_INT(verify_head(&r.req, "firehose", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_HAS(out.message, "Date must be in ISO-8601 'basic format'");
    raw_release(&r);
}

TEST(spacing_and_order_variants)
{
    static const char *auths[] = {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request,"
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target,"
        "Signature=3b36de41a41515ec479c5e433718700ebce4ce3c52d558a69e9f7d7f2ab4a12f",
        "AWS4-HMAC-SHA256 Signature=3b36de41a41515ec479c5e433718700ebce4ce3c52d558a69e9f7d7f2ab4a12f, "
        "Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target",
        "  AWS4-HMAC-SHA256\tCredential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request ,  "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target ,\t"
        "Signature=3b36de41a41515ec479c5e433718700ebce4ce3c52d558a69e9f7d7f2ab4a12f  ",
        /* Trailing slashes after the terminator do not count (dynalite). */
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request/, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=3b36de41a41515ec479c5e433718700ebce4ce3c52d558a69e9f7d7f2ab4a12f",
        /* An upper-case signature is the same signature. */
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=3B36DE41A41515EC479C5E433718700EBCE4CE3C52D558A69E9F7D7F2AB4A12F",
    };

    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        struct raw r;
        struct sigv4_result out;

        raw_boto(&r, "json");
        raw_set(&r, "Authorization", auths[i]);
        if (verify(&r.req, "kinesis", BOTO_NOW, &out) != SIGV4_OK)
            printf("  variant %zu: %s\n", i, out.message);
        CHECK_INT(out.status, SIGV4_OK);
        raw_release(&r);
    }
}

TEST(both_forms_at_once)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "presigned");
    raw_add(&r, "Authorization", "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=0");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_STR(out.type, "InvalidSignatureException");
    CHECK_STR(out.message, "Found both 'X-Amz-Algorithm' as a query-string param and "
                           "'Authorization' as HTTP header.");
    raw_release(&r);
}

TEST(unknown_key)
{
    struct raw r;
    struct sigv4_result out;
    int before = the_keys.calls;

    raw_boto(&r, "json");
    raw_edit(&r, "Authorization", "Credential=AKIDEXAMPLE", "Credential=AKIDUNKNOWN\x01");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_UNKNOWN_KEY);
    CHECK_STR(out.type, "UnrecognizedClientException");
    CHECK_STR(out.message, "The security token included in the request is invalid.");
    CHECK_STR(out.key_id, "AKIDUNKNOWN?");
    CHECK(the_keys.calls > before);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_UNKNOWN_KEY);
    raw_release(&r);
}

TEST(wrong_secret)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    the_keys.secret = "another-secret-of-forty-characters-000000";
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    the_keys.secret = SECRET;
    CHECK_STR(out.type, "InvalidSignatureException");
    CHECK_STR(out.message,
              "The request signature we calculated does not match the signature you provided. "
              "Check your AWS Secret Access Key and signing method. Consult the service "
              "documentation for details.");
    CHECK(strstr(out.message, "another-secret") == NULL);
    CHECK_STR(out.key_id, AKID);
    raw_release(&r);
}

TEST(wrong_scope)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    CHECK_INT(verify_in("eu-west-1", &r.req, "kinesis", BOTO_NOW, &out), SIGV4_WRONG_SCOPE);
    CHECK_STR(out.type, "InvalidSignatureException");
    CHECK_STR(out.message, "Credential should be scoped to a valid region, not 'us-east-1'.");
    CHECK_INT(verify(&r.req, "firehose", BOTO_NOW, &out), SIGV4_WRONG_SCOPE);
    CHECK_STR(out.message, "Credential should be scoped to correct service: 'firehose'.");
    raw_edit(&r, "Authorization", "/20261121/", "/20261120/");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_WRONG_SCOPE);
    CHECK_STR(out.message, "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                           "version of date from HTTP: '20261120' != '20261121', from "
                           "'20261121T085314Z'.");
    raw_edit(&r, "Authorization", "aws4_request", "aws5_request");
    CHECK_INT(verify_in("eu-west-1", &r.req, "states", BOTO_NOW, &out), SIGV4_WRONG_SCOPE);
    CHECK_STR(out.message,
              "Credential should be scoped to a valid region, not 'us-east-1'. Credential "
              "should be scoped to correct service: 'states'. Credential should be scoped with "
              "a valid terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope "
              "does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261120' != "
              "'20261121', from '20261121T085314Z'.");
    raw_release(&r);
}

TEST(clock_skew)
{
    static const struct {
        int64_t off; /* server clock minus the signer's, seconds */
        enum sigv4_status st;
    } cases[] = {
        {0, SIGV4_OK},
        {14 * 60, SIGV4_OK},
        {15 * 60, SIGV4_OK},
        {-15 * 60, SIGV4_OK},
        {16 * 60, SIGV4_EXPIRED},
        {20 * 60, SIGV4_EXPIRED},
        {-16 * 60, SIGV4_NOT_YET},
        {-20 * 60, SIGV4_NOT_YET},
    };
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW + cases[i].off, &out), cases[i].st);
        CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW + cases[i].off, &out), cases[i].st);
        if (cases[i].st != SIGV4_OK)
            CHECK_STR(out.type, "InvalidSignatureException");
    }
    verify(&r.req, "kinesis", BOTO_NOW + 20 * 60, &out);
    CHECK_STR(out.message, "Signature expired: 20261121T085314Z is now earlier than "
                           "20261121T085814Z (20261121T091314Z - 15 min.)");
    verify(&r.req, "kinesis", BOTO_NOW - 20 * 60, &out);
    CHECK_STR(out.message, "Signature not yet current: 20261121T085314Z is still later than "
                           "20261121T084814Z (20261121T083314Z + 15 min.)");
    raw_release(&r);
}

TEST(tampering)
{
    struct raw r;
    struct sigv4_result out;

    /* The body: one byte. */
    raw_boto(&r, "json");
    r.body[r.req.body_len - 3] ^= 1;
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_release(&r);
    /* A signed header; an unsigned one may change or appear. */
    raw_boto(&r, "json");
    raw_set(&r, "X-Amz-Target", "Kinesis_20131202.DeleteStream");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_set(&r, "X-Amz-Target", "Kinesis_20131202.PutRecords");
    raw_add(&r, "User-Agent", "curl/8");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    /* A signed header repeated changes its canonical value. */
    raw_add(&r, "X-Amz-Target", "Kinesis_20131202.DeleteStream");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_release(&r);
    /* The query and the path. */
    raw_boto(&r, "query");
    r.req.target = "/?b=2&a=3&a=1&d=x%20y&e=~%2F%2B&c=1";
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    /* The same arguments in another order and spelling sign the same. */
    r.req.target = "/?c&e=%7E%2f%2B&d=x%20y&a=1&a=3&b=2";
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    raw_release(&r);
    raw_boto(&r, "path");
    r.req.target = "/FeatureGroup/a%20b/Ac/d/f%2Fg";
    CHECK_INT(verify(&r.req, "sagemaker", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    r.req.target = "/FeatureGroup/a%20b/%41c/d/e/../f%2Fg";
    CHECK_INT(verify(&r.req, "sagemaker", BOTO_NOW, &out), SIGV4_OK);
    raw_release(&r);
    /* The signature itself, and one that is not hex. */
    raw_boto(&r, "json");
    raw_edit(&r, "Authorization", "Signature=3b", "Signature=3c");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_edit(&r, "Authorization", "Signature=3c", "Signature=zz");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_release(&r);
}

TEST(host_must_be_signed)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    raw_edit(&r, "Authorization", "content-type;host;x-amz-date", "content-type;x-amz-date");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_STR(out.type, "InvalidSignatureException");
    CHECK_STR(out.message, "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    raw_release(&r);
}

TEST(payload_hash)
{
    struct raw r;
    struct sigv4_result out;

    /* A hash that is not the body's: the signature holds, the body not. */
    raw_boto(&r, "sha256");
    r.body[5] ^= 1;
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_PAYLOAD_MISMATCH);
    CHECK_STR(out.type, "XAmzContentSHA256Mismatch");
    CHECK_HAS(out.message, "x-amz-content-sha256");
    raw_release(&r);
    /* The header goes into the canonical request as sent: the same hash
     * in capitals is another request; no hash at all is refused. */
    raw_boto(&r, "sha256");
    raw_set(&r, "X-Amz-Content-SHA256",
            "E16F4E9A811AB200DAAB8F8E3CBC428B3931B3EE098A6DD5556A985FD04202F1");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
    raw_set(&r, "X-Amz-Content-SHA256", "not-a-hash");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    raw_release(&r);
    /* UNSIGNED-PAYLOAD: the body is the signer's choice not to protect. */
    raw_boto(&r, "unsigned");
    r.body[5] ^= 1;
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    raw_release(&r);
}

TEST(presigned)
{
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "presigned");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW + 299, &out), SIGV4_OK);
    CHECK_STR(out.key_id, AKID);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW + 301, &out), SIGV4_EXPIRED);
    CHECK_STR(out.message, "Signature expired: 20261121T085314Z is now earlier than "
                           "20261121T085315Z (20261121T085815Z - 300 sec.)");
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW - 16 * 60, &out), SIGV4_NOT_YET);
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW + 301, &out), SIGV4_EXPIRED);
    /* The signature covers the other arguments, not itself. */
    {
        const char *t = r.req.target;
        char *edited = strdup(t), *at = strstr(edited, "Limit=10");

        at[7] = '1';
        r.req.target = edited;
        CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_BAD_SIGNATURE);
        r.req.target = t;
        free(edited);
    }
    raw_release(&r);

    {
        static const struct {
            const char *target;
            const char *says;
        } bad[] = {
            {"/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-"
             "east-1%2Fkinesis%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
             "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the "
             "query-string parameters."},
            {"/?X-Amz-Signature=00",
             "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string "
             "parameters must include 'X-Amz-Credential'. AWS query-string parameters must "
             "include 'X-Amz-SignedHeaders'. AWS query-string parameters must include "
             "'X-Amz-Date'. Re-examine the query-string parameters."},
            {"/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-"
             "east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20261121T085314Z&X-Amz-Expires=0&X-Amz-"
             "SignedHeaders=host&X-Amz-Signature=00",
             "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '0'."},
            {"/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-"
             "east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20261121T085314Z&X-Amz-Expires=604801&"
             "X-Amz-SignedHeaders=host&X-Amz-Signature=00",
             "got '604801'"},
            {"/?X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-"
             "east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20261121T085314Z&X-Amz-Expires=60&"
             "X-Amz-SignedHeaders=host&X-Amz-Signature=00",
             "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"},
            {"/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-"
             "east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20261121T085314Z&X-Amz-Expires=60&"
             "X-Amz-SignedHeaders=content-type&X-Amz-Signature=00",
             "'Host' must be a 'SignedHeader'"},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            raw_boto(&r, "presigned");
            r.req.target = bad[i].target;
            CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
            CHECK_HAS(out.message, bad[i].says);
            raw_release(&r);
        }
    }
}

TEST(bounds)
{
    struct raw r;
    struct sigv4_result out;
    char *big, *names;
    size_t n;

    /* 65 signed header names. */
    raw_boto(&r, "json");
    names = malloc(65 * 8 + 64);
    n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(names + n, 16, "%sx-h%02d", i ? ";" : "", i);
    big = malloc(n + 256);
    snprintf(big, n + 256,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
             "SignedHeaders=host;x-amz-date;%s, Signature=00",
             names);
    raw_set(&r, "Authorization", big);
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_HAS(out.message, "more than 64 headers");
    free(big);
    free(names);
    raw_release(&r);

    /* A signed header over 8 KiB; unsigned ones are not looked at. */
    raw_boto(&r, "json");
    big = malloc(SIGV4_MAX_HEADER_VALUE + 2);
    memset(big, 'a', SIGV4_MAX_HEADER_VALUE + 1);
    big[SIGV4_MAX_HEADER_VALUE + 1] = '\0';
    raw_add(&r, "X-Unsigned", big);
    CHECK_INT(verify(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_OK);
    raw_set(&r, "X-Amz-Target", big);
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_HAS(out.message, "longer than 8192 bytes");
    raw_set(&r, "X-Amz-Target", "Kinesis_20131202.PutRecords");
    memcpy(big, "AWS4-", 5);
    raw_set(&r, "Authorization", big);
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    free(big);
    raw_release(&r);

    /* Too many headers, too long a target, too many arguments. */
    raw_boto(&r, "json");
    while (r.req.nheaders <= SIGV4_MAX_HEADERS)
        raw_add(&r, "X-Pad", "1");
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    raw_release(&r);
    raw_boto(&r, "json");
    big = malloc(SIGV4_MAX_TARGET + 2);
    memset(big, 'a', SIGV4_MAX_TARGET + 1);
    big[0] = '/';
    big[SIGV4_MAX_TARGET + 1] = '\0';
    r.req.target = big;
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    for (size_t i = 0; i + 1 < SIGV4_MAX_TARGET; i += 2)
        memcpy(big + i, i ? "&a" : "/?", 2);
    big[SIGV4_MAX_TARGET - 1] = '\0';
    CHECK_INT(verify_head(&r.req, "kinesis", BOTO_NOW, &out), SIGV4_INCOMPLETE);
    CHECK_HAS(out.message, "more than 256 arguments");
    free(big);
    raw_release(&r);
}

/* ---- the signing-key cache -------------------------------------------- */

TEST(cache_sees_a_changed_secret)
{
    struct sigv4_verifier *v = sigv4_new("us-east-1", 900);
    struct keys k = {AKID, SECRET, 0};
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    for (int i = 0; i < 3; i++) {
        sigv4_verify(v, &r.req, "kinesis", BOTO_NOW, lookup, &k, &out);
        CHECK_INT(out.status, SIGV4_OK);
    }
    /* The key's secret is replaced: the cached signing key must not serve. */
    k.secret = "a-new-secret-after-rotation-0000000000000";
    sigv4_verify(v, &r.req, "kinesis", BOTO_NOW, lookup, &k, &out);
    CHECK_INT(out.status, SIGV4_BAD_SIGNATURE);
    k.secret = SECRET;
    sigv4_verify(v, &r.req, "kinesis", BOTO_NOW, lookup, &k, &out);
    CHECK_INT(out.status, SIGV4_OK);
    /* Removed: unknown, cache or not. */
    k.id = "AKIDREMOVED";
    sigv4_forget(v);
    sigv4_verify(v, &r.req, "kinesis", BOTO_NOW, lookup, &k, &out);
    CHECK_INT(out.status, SIGV4_UNKNOWN_KEY);
    k.id = AKID;
    /* More days and services than slots: evictions keep answers right. */
    for (int i = 0; i < 2 * SIGV4_CACHE_SLOTS; i++) {
        struct raw o;
        char auth[256];

        raw_boto(&o, "json");
        snprintf(auth, sizeof(auth), "AKIDEXAMPLE/20261121/us-east-1/svc%d/", i);
        raw_edit(&o, "Authorization", "AKIDEXAMPLE/20261121/us-east-1/kinesis/", auth);
        snprintf(auth, sizeof(auth), "svc%d", i);
        sigv4_verify(v, &o.req, auth, BOTO_NOW, lookup, &k, &out);
        CHECK_INT(out.status, SIGV4_BAD_SIGNATURE); /* signed for kinesis */
        raw_release(&o);
    }
    sigv4_verify(v, &r.req, "kinesis", BOTO_NOW, lookup, &k, &out);
    CHECK_INT(out.status, SIGV4_OK);
    raw_release(&r);
    sigv4_free(v);
}

struct worker {
    struct sigv4_verifier *v;
    int ok;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct raw r;
    struct sigv4_result out;

    raw_boto(&r, "json");
    for (int i = 0; i < 200; i++) {
        sigv4_verify(w->v, &r.req, "kinesis", BOTO_NOW, lookup, &the_keys, &out);
        w->ok += out.status == SIGV4_OK;
        if (i % 50 == 0)
            sigv4_forget(w->v);
    }
    raw_release(&r);
    return NULL;
}

TEST(threads_share_a_verifier)
{
    struct worker w[4];
    pthread_t t[4];
    struct sigv4_verifier *v = sigv4_new("us-east-1", 900);

    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){v, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].ok, 200);
    }
    sigv4_free(v);
}
