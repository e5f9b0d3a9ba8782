// iceberg_rest.mjs - drive sluice serve's Iceberg REST catalog with
// iceberg-js, an Iceberg REST client sluice did not write, one call per
// run, and print what the client returns as one line of JSON.
//
//   node iceberg_rest.mjs URL config
//   node iceberg_rest.mjs URL namespaces [PARENT]
//   node iceberg_rest.mjs URL create-namespace NS [PROPERTIES_JSON]
//   node iceberg_rest.mjs URL namespace NS          (loadNamespaceMetadata)
//   node iceberg_rest.mjs URL namespace-exists NS   (HEAD)
//   node iceberg_rest.mjs URL drop-namespace NS
//   node iceberg_rest.mjs URL tables NS
//   node iceberg_rest.mjs URL create-table NS CREATE_TABLE_REQUEST_JSON
//   node iceberg_rest.mjs URL load NS TABLE         (loadTableResult)
//   node iceberg_rest.mjs URL table-exists NS TABLE (HEAD)
//   node iceberg_rest.mjs URL commit NS TABLE COMMIT_TABLE_REQUEST_JSON
//   node iceberg_rest.mjs URL drop-table NS TABLE [purge]
//
// NS is a namespace's levels joined by '.' (iceberg-js sends them joined
// by %1F).  A call the server refuses prints {"error": {"status",
// "type", "message"}} - iceberg-js's IcebergError - and exits 3; anything
// else that fails exits 1.
//
// With SIGV4_KEY_ID and SIGV4_SECRET in the environment every request is
// signed, through iceberg-js's `fetch` option, with AWS Signature Version
// 4 for service "iceberg" in SIGV4_REGION (default us-east-1).  The signer
// is written here, after AWS's description of SigV4 (and botocore's
// choices for services other than S3: the canonical URI is the path as
// sent, encoded once more).
import { createHash, createHmac } from "node:crypto";
import path from "node:path";

const modules = process.env.NODE_MODULES;
if (!modules) {
    console.error("iceberg_rest.mjs: set NODE_MODULES to build/deps/node/node_modules");
    process.exit(1);
}
const { IcebergRestCatalog, IcebergError } = await import(
    path.join(modules, "iceberg-js", "dist", "index.mjs")
);

// ---- SigV4 ---------------------------------------------------------------

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

// RFC 3986 encoding of every byte but the unreserved ones (and '/' if kept).
function uriEncode(s, keepSlash) {
    let out = "";
    for (const b of Buffer.from(s, "utf8")) {
        const c = String.fromCharCode(b);
        if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
        else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
}

function sign(method, url, headers, body) {
    const keyId = process.env.SIGV4_KEY_ID;
    const secret = process.env.SIGV4_SECRET;
    const region = process.env.SIGV4_REGION || "us-east-1";
    const service = "iceberg";
    const u = new URL(url);
    const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    const day = now.slice(0, 8);
    const payload = sha256(body ?? "");
    const h = { ...headers, host: u.host, "x-amz-date": now, "x-amz-content-sha256": payload };
    const names = Object.keys(h).map((k) => k.toLowerCase()).sort();
    const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    const canonicalHeaders = names.map((k) => `${k}:${String(lower[k]).trim()}\n`).join("");
    const query = [...u.searchParams.entries()]
        .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
    const canonical = [
        method,
        uriEncode(u.pathname, true),
        query,
        canonicalHeaders,
        names.join(";"),
        payload,
    ].join("\n");
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", now, scope, sha256(canonical)].join("\n");
    let k = hmac("AWS4" + secret, day);
    k = hmac(k, region);
    k = hmac(k, service);
    k = hmac(k, "aws4_request");
    const signature = createHmac("sha256", k).update(toSign).digest("hex");
    lower.authorization =
        `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, ` +
        `SignedHeaders=${names.join(";")}, Signature=${signature}`;
    delete lower.host; // fetch sets it, as signed
    return lower;
}

async function signedFetch(url, init) {
    const headers = sign(init.method, url, init.headers ?? {}, init.body);
    return fetch(url, { ...init, headers });
}

// ---- the calls -------------------------------------------------------------

const [url, what, ...args] = process.argv.slice(2);
if (!url || !what) {
    console.error("usage: node iceberg_rest.mjs URL WHAT [ARGS...]");
    process.exit(1);
}
const catalog = new IcebergRestCatalog({
    baseUrl: url,
    ...(process.env.SIGV4_KEY_ID ? { fetch: signedFetch } : {}),
});
const ns = (s) => ({ namespace: s.split(".") });
const table = (n, t) => ({ namespace: n.split("."), name: t });

const calls = {
    config: () => catalog.loadConfig(),
    namespaces: (p) => catalog.listNamespaces(p ? { parent: ns(p) } : {}),
    "create-namespace": (n, props) =>
        catalog.createNamespace(ns(n), props ? { properties: JSON.parse(props) } : undefined),
    namespace: (n) => catalog.loadNamespaceMetadata(ns(n)),
    "namespace-exists": async (n) => ({ exists: await catalog.namespaceExists(ns(n)) }),
    "drop-namespace": async (n) => (await catalog.dropNamespace(ns(n)), { dropped: n }),
    tables: (n) => catalog.listTables(ns(n)),
    "create-table": (n, req) => catalog.createTableResult(ns(n), JSON.parse(req)),
    load: async (n, t) => {
        const r = await catalog.loadTableResult(table(n, t));
        delete r.etag;
        return r;
    },
    "table-exists": async (n, t) => ({ exists: await catalog.tableExists(table(n, t)) }),
    commit: (n, t, req) => catalog.updateTable(table(n, t), JSON.parse(req)),
    "drop-table": async (n, t, purge) => {
        await catalog.dropTable(table(n, t), { purge: purge === "purge" });
        return { dropped: `${n}.${t}` };
    },
};

if (!calls[what]) {
    console.error(`iceberg_rest.mjs: unknown call ${what}`);
    process.exit(1);
}
try {
    const result = await calls[what](...args);
    console.log(JSON.stringify(result ?? null));
} catch (e) {
    if (e instanceof IcebergError) {
        console.log(JSON.stringify({ error: { status: e.status, type: e.icebergType ?? null,
                                              message: e.message } }));
        process.exit(3);
    }
    console.error(`iceberg_rest.mjs: ${what}: ${e.stack ?? e}`);
    process.exit(1);
}
