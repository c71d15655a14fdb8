// GET a URL with Node's https module as an application does (collect the
// 'data' chunks, save them on 'end') and save the body: exit 0 on 'end',
// 1 with the error on standard error when the request or the response
// reports one. Usage: node node_https_get.js URL OUTPUT-FILE.
// The certificate is not verified: the table is about how connections end.
'use strict';
const fs = require('fs');
const https = require('https');

const [url, out] = process.argv.slice(2);
let finished = false;

function fail(err) {
  if (finished) return;
  finished = true;
  process.stderr.write(`error: ${err.code || err.name}: ${err.message}\n`);
  process.exit(1);
}

const req = https.get(url, { rejectUnauthorized: false, timeout: 10000 }, (res) => {
  const chunks = [];
  res.on('data', (chunk) => chunks.push(chunk));
  res.on('error', fail);
  res.on('end', () => {
    if (finished) return;
    finished = true;
    fs.writeFileSync(out, Buffer.concat(chunks));
    process.exit(0);
  });
});
req.on('error', fail);
req.on('timeout', () => req.destroy(new Error('timeout')));
