// The upload page of an upload link (docs/upload-links.md).  The link id in
// the address is its only credential.  For each file chosen or dropped it
// registers a video (POST /upload/<linkId>/videos), uploads the bytes with
// tus (tus-js-client, the global `tus`) to the answer's uploadUrl, then
// polls the video until it is processed and plays it (HLS through hls.js,
// loaded only then, unless the browser plays HLS itself).
//
// Resuming after a reload rests on two ids that stay the same for the same
// file: fileId (from its name, size and modification time) gives back the
// same video and a fresh token, and the tus fingerprint (the link and that
// fileId) finds the upload URL tus-js-client kept in localStorage.
const ASSETS = '/upload/assets/';
const CHUNK_SIZE = 8 * 1024 * 1024;
const PARALLEL = 2;               // uploads at once; more wait in line
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
const POLL_MS = 1500;
const POLL_SLOW_MS = 5000;        // after POLL_SLOW_AFTER polls (about 2 minutes)
const POLL_SLOW_AFTER = 80;
const SPEED_WINDOW_MS = 5000;

const $ = (id) => document.getElementById(id);
const match = /^\/upload\/([A-Za-z0-9_-]+)\/?$/.exec(location.pathname);
const linkId = match ? match[1] : null;
const rows = new Map();           // fileId -> row
const waiting = [];
let running = 0;
let info = null;
let hlsScript = null;

// ---- formatting ----
function bytes(n) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return i ? `${n.toFixed(1)} ${units[i]}` : `${n} ${units[0]}`;
}
function duration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
}

// One place screen readers hear status changes from; cleared first so that
// the same words twice are read twice.
function announce(text) {
  const live = $('announce');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 100);
}

// A deterministic id of 32 characters of [A-Za-z0-9_-]: 192 bits from six
// differently seeded 32-bit hashes.  Not SHA-256: crypto.subtle exists only
// on https and localhost pages, and vodup may be reached over plain http.
function fileIdOf(file) {
  const text = `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
  const out = new Uint8Array(24);
  const primes = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0x01000193];
  primes.forEach((p, lane) => {
    let h = Math.imul(lane + 1, 0x7feb352d) ^ 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), p);
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
    out.set([h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255], lane * 4);
  });
  return btoa(String.fromCharCode(...out)).replace(/\+/g, '-').replace(/\//g, '_');
}

// ---- the link's routes ----
async function api(path, body) {
  const init = body
    ? {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)}
    : {cache: 'no-store'};
  const res = await fetch(`/upload/${linkId}${path}`, init);
  let json = null;
  try { json = await res.json(); } catch { /* not JSON: the status says enough */ }
  if (!res.ok) {
    const err = new Error((json && json.message) || `The server answered ${res.status}.`);
    err.status = res.status;
    err.body = json;
    throw err;
  }
  return json && json.data && typeof json.data === 'object' ? json.data : json;
}

function refuse(status, detail) {
  const notice = $('notice');
  notice.classList.add('error');
  notice.setAttribute('role', 'alert');
  notice.textContent =
    status === 404 ? 'This upload link does not exist. Check the address, or ask whoever sent it for a new link.'
      : status === 410 ? 'This upload link has expired. Ask whoever sent it for a new link.'
        : `This upload link cannot be used right now: ${detail} Reload the page to try again.`;
  document.title = status === 404 ? 'Upload link not found' : status === 410 ? 'Upload link expired' : 'Upload videos';
  $('drop').hidden = true;
}

async function open() {
  // The page itself came with 404 or 410 when the link is unknown or expired.
  const nav = performance.getEntriesByType('navigation')[0];
  const status = nav && nav.responseStatus;
  if (!linkId || status === 404 || status === 410) return refuse(linkId ? status : 404);
  try {
    info = await api('/info');
  } catch (err) {
    return refuse(err.status === 404 || err.status === 410 ? err.status : 0, err.message);
  }
  if (Date.parse(info.expiresAt) <= Date.now()) return refuse(410);
  const ext = Array.isArray(info.extensions) ? info.extensions : [];
  if (ext.length) $('files').accept = ext.map((e) => `.${e}`).join(',');
  const left = info.usesLeft > 0
    ? `${info.usesLeft} more video${info.usesLeft === 1 ? '' : 's'}`
    : 'no new videos left (a file you started here before can still be chosen again to finish it)';
  $('limits').textContent = `Up to ${bytes(info.maxSize)} a file; ${left}; until ` +
    `${new Date(info.expiresAt).toLocaleString()}.` + (ext.length ? ` Accepted: ${ext.join(', ')}.` : '');
  $('notice').textContent = 'Uploads continue where they stopped: after a reload, choose the same file again.';
  $('drop').hidden = false;
}

// ---- one row per file ----
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function makeRow(file, id) {
  const row = {file, id, name: file.name, status: null, paused: false, samples: [], shown: 0};
  row.bar = el('progress', {max: 100, value: 0});
  row.pause = el('button', {type: 'button', className: 'secondary', disabled: true});
  row.pause.addEventListener('click', () => togglePause(row));
  row.stats = el('p', {className: 'stats'});
  row.state = el('p', {className: 'status'});
  row.li = el('li', {className: 'file'},
    el('h2', {}, file.name, ' ', el('span', {className: 'size'}, `(${bytes(file.size)})`)),
    el('div', {className: 'bar'}, row.bar, row.pause), row.stats, row.state);
  row.li.dataset.fileId = id;
  setPhase(row, 'Upload');
  setPauseLabel(row);
  $('list').append(row.li);
  return row;
}

function setPhase(row, phase) {
  row.bar.setAttribute('aria-label', `${phase} of ${row.name}`);
}
function setPauseLabel(row) {
  const verb = row.paused ? 'Resume' : 'Pause';
  row.pause.textContent = verb;
  row.pause.setAttribute('aria-label', `${verb} upload of ${row.name}`);
}
function setStatus(row, text, loud, kind = '') {
  row.state.textContent = text;
  row.state.className = `status ${kind}`;
  row.li.dataset.status = kind || row.status || '';
  if (loud) announce(`${row.name}: ${text}`);
}
function fail(row, text) {
  row.status = 'failed';
  row.pause.hidden = true;
  row.stats.textContent = '';
  setStatus(row, text, true, 'failed');
}

function addFiles(files) {
  if (!info) return;
  for (const file of files) {
    const id = fileIdOf(file);
    const old = rows.get(id);
    if (old && old.status !== 'failed') continue;   // on the page already
    if (old) old.li.remove();                        // failed: try again
    const row = makeRow(file, id);
    rows.set(id, row);
    const ext = file.name.includes('.') ? file.name.split('.').pop().toLowerCase() : '';
    const accepted = info.extensions || [];
    if (accepted.length && !accepted.includes(ext)) fail(row, `Not accepted: ${ext ? `.${ext} files are` : 'a name without an extension is'} not among this link's file types.`);
    else if (file.size > info.maxSize) fail(row, `Too large: this link takes files up to ${bytes(info.maxSize)}.`);
    else register(row);
  }
}

async function register(row) {
  setStatus(row, 'Registering…');
  try {
    row.reg = await api('/videos', {name: row.file.name, size: row.file.size, fileId: row.id});
  } catch (err) {
    // 409: this file's upload finished before; with its videoId, show that video.
    if (err.status === 409 && err.body && err.body.videoId) {
      row.reg = err.body;
      return uploaded(row, true);
    }
    return fail(row, err.status === 410 ? 'Refused: this upload link has no videos left or expired.' : err.message);
  }
  // The same file again (after a reload) may have finished uploading already.
  const video = await api(`/videos/${row.reg.videoId}`).catch(() => null);
  if (video && !['created', 'uploading'].includes(video.status)) return uploaded(row, true);
  setStatus(row, running >= PARALLEL ? 'Waiting for the uploads before it…' : 'Starting…');
  waiting.push(row);
  next();
}

// ---- tus ----
function next() {
  while (running < PARALLEL && waiting.length) {
    running++;
    upload(waiting.shift());
  }
}
function release(row) {
  if (!row.slot) return;
  row.slot = false;
  running--;
  next();
}

async function upload(row) {
  row.slot = true;
  const {file, reg} = row;
  const up = new tus.Upload(file, {
    endpoint: `${reg.uploadUrl}/files/`,
    headers: {Authorization: `UpToken ${reg.uploadToken}`},
    chunkSize: CHUNK_SIZE,
    metadata: file.type ? {filetype: file.type} : {},
    retryDelays: RETRY_DELAYS,
    // One stored upload URL per link and file, whatever the token.
    fingerprint: () => Promise.resolve(`vodup-${linkId}-${row.id}`),
    removeFingerprintOnSuccess: true,
    onProgress: (sent, total) => progress(row, sent, total),
    onSuccess: () => { release(row); uploaded(row, false); },
    onError: (err) => { release(row); uploadFailed(row, err); },
  });
  row.upload = up;
  const previous = await up.findPreviousUploads().catch(() => []);
  if (previous.length) {
    previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
    up.resumeFromPreviousUpload(previous[0]);
    row.resuming = true;
    setStatus(row, 'Resuming the earlier upload…', true);
  } else {
    setStatus(row, 'Uploading…', true);
  }
  row.pause.disabled = false;
  up.start();
}

function uploadFailed(row, err) {
  const res = err && err.originalResponse;
  const status = res ? res.getStatus() : 0;
  // A token outlives no long pause: register again (same video, fresh token), then resume.
  if (status === 401 && (row.renewed = (row.renewed || 0) + 1) <= 2) return register(row);
  let message = '';
  try { message = JSON.parse(res.getBody()).message || ''; } catch { /* no JSON body */ }
  fail(row, message ? `Upload failed: ${message}`
    : status ? `Upload failed: the server answered ${status}.`
      : 'Upload failed: the server cannot be reached. Choose the file again to resume.');
}

function progress(row, sent, total) {
  const now = performance.now();
  const pct = total ? (sent / total) * 100 : 0;
  row.bar.value = pct;
  if (row.resuming) {
    row.resuming = false;
    setStatus(row, `Resuming at ${Math.floor(pct)}%`, true);
  }
  row.samples.push({t: now, sent});
  while (row.samples.length > 2 && now - row.samples[0].t > SPEED_WINDOW_MS) row.samples.shift();
  if (now - row.shown < 250 && sent < total) return;
  row.shown = now;
  const first = row.samples[0];
  // Speed and time left once there is half a second to measure them over.
  const rate = now - first.t >= 500 ? ((sent - first.sent) * 1000) / (now - first.t) : 0;
  const speed = rate > 0 ? `, ${(rate / 1e6).toFixed(1)} MB/s, ${duration((total - sent) / rate)} left` : '';
  row.stats.textContent = `${Math.floor(pct)}% of ${bytes(total)}${speed}`;
}

function togglePause(row) {
  if (!row.upload || row.status === 'failed') return;
  row.paused = !row.paused;
  row.samples = [];
  if (row.paused) {
    row.upload.abort();
    setStatus(row, 'Paused', true);
  } else {
    row.upload.start();
    setStatus(row, 'Uploading…', true);
  }
  setPauseLabel(row);
}

// ---- processing and playback ----
function uploaded(row, before) {
  row.pause.hidden = true;
  row.bar.value = 100;
  row.stats.textContent = '';
  setStatus(row, before ? 'Uploaded earlier. Checking its processing…' : 'Uploaded. Waiting for processing…', true);
  row.polls = 0;
  poll(row);
}

async function poll(row) {
  let video = null;
  try {
    video = await api(`/videos/${row.reg.videoId}`);
  } catch (err) {
    if (err.status === 404) return fail(row, 'The video is gone: it was deleted.');
  }
  if (video && show(row, video)) return;
  row.polls++;
  setTimeout(() => poll(row), row.polls > POLL_SLOW_AFTER ? POLL_SLOW_MS : POLL_MS);
}

// Shows the video's state; true when it will not change any more.
function show(row, video) {
  const changed = video.status !== row.status;
  row.status = video.status;
  if (video.status === 'failed') {
    fail(row, `Processing failed: ${video.failReason || 'no reason was given.'}`);
    return true;
  }
  if (video.status === 'ready') {
    row.bar.parentNode.hidden = true;
    setStatus(row, 'Ready to play.', true, 'ready');
    play(row, video);
    return true;
  }
  if (video.status === 'processing') {
    const pct = video.progress || 0;
    setPhase(row, 'Processing');
    row.bar.value = pct;
    setStatus(row, `Processing: ${pct}%`, changed);
  } else if (video.status === 'uploaded') {
    setStatus(row, 'Uploaded. Waiting for processing…', changed);
  }
  return false;
}

function loadHls() {
  hlsScript = hlsScript || new Promise((resolve, reject) => {
    const script = el('script', {src: `${ASSETS}hls.light.min.js`});
    script.onload = () => resolve(window.Hls);
    script.onerror = () => reject(new Error('hls.js did not load'));
    document.head.append(script);
  });
  return hlsScript;
}

async function play(row, video) {
  const player = el('video', {controls: true, preload: 'metadata', playsInline: true});
  player.setAttribute('aria-label', `Video: ${row.name}`);
  if (video.coverUrl) player.poster = video.coverUrl;
  row.li.append(player);
  const hls = (video.outputs || []).find((o) => o.type === 'hls');
  row.li.dataset.player = 'file';
  if (hls && player.canPlayType('application/vnd.apple.mpegurl')) {
    row.li.dataset.player = 'native-hls';
    player.src = hls.url;
    return;
  }
  if (hls) {
    try {
      const Hls = await loadHls();
      if (Hls && Hls.isSupported()) {
        row.li.dataset.player = 'hls.js';
        row.hls = new Hls();
        row.hls.on(Hls.Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          row.hls.destroy();            // the original file plays instead
          row.li.dataset.player = 'file';
          player.src = video.playUrl;
        });
        row.hls.loadSource(hls.url);
        row.hls.attachMedia(player);
        return;
      }
    } catch { /* play the original file instead */ }
  }
  player.src = video.playUrl;
}

// ---- choosing files ----
const picker = $('files');
picker.addEventListener('change', () => {
  addFiles(picker.files);
  picker.value = '';              // the same file again fires change again
});
// The whole window takes drops (a file dropped beside the zone must not
// replace the page); the zone shows where.
const zone = $('drop');
let depth = 0;
window.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; zone.classList.add('over'); });
window.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('over'); } });
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  depth = 0;
  zone.classList.remove('over');
  if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
});

open();
