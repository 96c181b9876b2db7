// facenet's web page: live webcam recognition, enrolment from the webcam,
// the gallery and identify-a-photo, all through the server's own API (no
// library, nothing fetched from elsewhere).  Live frames go one at a time as
// JPEG POSTs to a session (/v1/live/{id}/frames): the next frame is sent when
// the answer to the last one arrives, so a slow server sees fewer frames
// rather than a queue.
'use strict';
const $ = (id) => document.getElementById(id);
const keyInput = $('key');
keyInput.value = localStorage.getItem('facenet-key') || '';
keyInput.addEventListener('change', () => localStorage.setItem('facenet-key', keyInput.value));

function showError(msg) { $('error').textContent = msg || ''; }

async function api(method, path, body, type) {
  const headers = {};
  if (keyInput.value) headers['X-API-Key'] = keyInput.value;
  if (type) headers['Content-Type'] = type;
  const r = await fetch(path, { method, headers, body });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((json && json.error) || (r.status + ' ' + r.statusText));
  return json;
}

// ---------------------------------------------------------------- tabs
document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => {
  document.querySelectorAll('nav button').forEach((x) => x.classList.toggle('on', x === b));
  document.querySelectorAll('main section').forEach((s) => { s.hidden = s.id !== 'tab-' + b.dataset.tab; });
  if (b.dataset.tab === 'gallery') loadGallery();
}));

// ---------------------------------------------------------------- camera
const video = $('video'), overlay = $('overlay');
const grab = document.createElement('canvas');
let stream = null, session = null, running = false;

function frameBlob() {
  const w = video.videoWidth, h = video.videoHeight;
  const scale = Math.min(1, 640 / w);
  grab.width = Math.round(w * scale);
  grab.height = Math.round(h * scale);
  grab.getContext('2d').drawImage(video, 0, 0, grab.width, grab.height);
  return new Promise((res) => grab.toBlob(res, 'image/jpeg', 0.85));
}

function drawTracks(tracks, fw, fh) {
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
  const g = overlay.getContext('2d'), s = overlay.width / fw;
  g.clearRect(0, 0, overlay.width, overlay.height);
  g.lineWidth = 3;
  g.font = '20px system-ui, sans-serif';
  const list = $('live-names');
  list.textContent = '';
  for (const t of tracks) {
    // the video is shown mirrored (a selfie view): mirror the boxes too
    const x1 = overlay.width - t.box[2] * s, x2 = overlay.width - t.box[0] * s;
    const y1 = t.box[1] * s, y2 = t.box[3] * s;
    const label = t.name || (t.identified ? 'unknown' : '…');
    g.strokeStyle = g.fillStyle = t.name ? '#4caf50' : '#f44336';
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    g.fillText(label, x1, Math.max(20, y1 - 6));
    const li = document.createElement('li');
    li.textContent = label;
    li.className = t.name ? 'known' : 'unknown';
    li.dataset.name = t.name || '';
    list.appendChild(li);
  }
}

async function liveLoop() {
  let frames = 0;
  const t0 = performance.now();
  while (running) {
    if (video.readyState < 2) { await new Promise((r) => setTimeout(r, 50)); continue; }
    try {
      const blob = await frameBlob();
      const res = await api('POST', '/v1/live/' + session + '/frames', blob, 'image/jpeg');
      drawTracks(res.tracks, res.width, res.height);
      frames++;
      $('live-status').textContent = (frames / ((performance.now() - t0) / 1000)).toFixed(1) + ' frames/s';
      showError('');
    } catch (e) {
      showError(e.message);
      if (/no live session/.test(e.message)) session = (await api('POST', '/v1/live')).session;
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

$('cam-start').addEventListener('click', async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    video.srcObject = stream;
    session = (await api('POST', '/v1/live')).session;
    running = true;
    $('cam-start').disabled = true;
    $('cam-stop').disabled = false;
    liveLoop();
  } catch (e) { showError('camera: ' + e.message); }
});

$('cam-stop').addEventListener('click', async () => {
  running = false;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $('cam-start').disabled = false;
  $('cam-stop').disabled = true;
  if (session) { try { await api('DELETE', '/v1/live/' + session); } catch (e) { /* gone already */ } }
  session = null;
});

// ---------------------------------------------------------------- enrol
$('enrol-go').addEventListener('click', async () => {
  const name = $('enrol-name').value.trim(), n = +$('enrol-frames').value || 3, log = $('enrol-log');
  if (!name) { showError('enrol: give a name'); return; }
  if (!stream) { showError('enrol: start the camera on the Live tab first'); return; }
  log.textContent = '';
  // creating a person whose name is taken is refused (409): frames for
  // someone already in the gallery are added to them once the user says so
  let exists = false;
  try { exists = (await api('GET', '/v1/people')).people.some((p) => p.name === name); } catch (e) { /* the POST says why */ }
  if (exists && !confirm(name + ' is already in the gallery: add these frames to them?')) return;
  let added = 0;
  for (let i = 0; i < n; i++) {
    const li = document.createElement('li');
    try {
      const blob = await frameBlob();
      const path = added || exists ? '/v1/people/' + encodeURIComponent(name) + '/faces' : '/v1/people?name=' + encodeURIComponent(name);
      const r = await api('POST', path, blob, 'image/jpeg');
      added += r.result === 'added' ? 1 : 0;
      li.textContent = 'frame ' + (i + 1) + ': ' + r.result + ' (p=' + r.prob.toFixed(3) + ')';
    } catch (e) { li.textContent = 'frame ' + (i + 1) + ': ' + e.message; }
    log.appendChild(li);
    await new Promise((r) => setTimeout(r, 400));
  }
  // the live session's tracks were named before this enrolment and keep
  // their vote: a new session tracks (and names) everyone afresh
  if (running && added) {
    const old = session;
    session = (await api('POST', '/v1/live')).session;
    try { await api('DELETE', '/v1/live/' + old); } catch (e) { /* gone already */ }
  }
  const done = document.createElement('li');
  done.id = 'enrol-done';
  done.textContent = added + ' face(s) of ' + name + ' enrolled';
  log.appendChild(done);
});

// ---------------------------------------------------------------- gallery
async function loadGallery() {
  const box = $('people');
  try {
    const list = await api('GET', '/v1/people');
    $('gallery-count').textContent = list.count + ' people';
    box.textContent = '';
    for (const p of list.people) {
      const div = document.createElement('div');
      div.className = 'person';
      const h = document.createElement('strong');
      h.textContent = p.name + ' (' + p.images + ')';
      const rename = document.createElement('button');
      rename.textContent = 'Rename';
      rename.onclick = async () => {
        const to = prompt('New name for ' + p.name, p.name);
        if (!to || to === p.name) return;
        try { await api('PATCH', '/v1/people/' + encodeURIComponent(p.name), JSON.stringify({ name: to }), 'application/json'); loadGallery(); }
        catch (e) { showError(e.message); }
      };
      const del = document.createElement('button');
      del.textContent = 'Delete';
      del.onclick = async () => {
        if (!confirm('Delete ' + p.name + ' and all their faces?')) return;
        try { await api('DELETE', '/v1/people/' + encodeURIComponent(p.name)); loadGallery(); } catch (e) { showError(e.message); }
      };
      const add = document.createElement('input');
      add.type = 'file';
      add.accept = 'image/jpeg,image/png';
      add.title = 'Add a photo';
      add.onchange = async () => {
        try { await api('POST', '/v1/people/' + encodeURIComponent(p.name) + '/faces', add.files[0], add.files[0].type); loadGallery(); }
        catch (e) { showError(e.message); }
      };
      const faces = document.createElement('div');
      faces.className = 'faces';
      div.append(h, ' ', rename, ' ', del, ' add a photo: ', add, faces);
      box.appendChild(div);
      api('GET', '/v1/people/' + encodeURIComponent(p.name) + '/faces').then((r) => {
        for (const f of r.faces) {
          const fig = document.createElement('figure');
          const img = document.createElement('img');
          img.alt = p.name;
          if (f.thumbnail) img.src = f.thumbnail;
          const x = document.createElement('button');
          x.textContent = 'remove';
          x.onclick = async () => {
            try { await api('DELETE', '/v1/people/' + encodeURIComponent(p.name) + '/faces/' + f.id); loadGallery(); }
            catch (e) { showError(e.message); }
          };
          fig.append(img, x);
          faces.appendChild(fig);
        }
      }).catch((e) => showError(e.message));
    }
  } catch (e) { showError(e.message); }
}
$('gallery-reload').addEventListener('click', loadGallery);

// ---------------------------------------------------------------- photo
$('photo-file').addEventListener('change', async () => {
  const file = $('photo-file').files[0];
  if (!file) return;
  try {
    const res = await api('POST', '/v1/identify', file, file.type || 'image/jpeg');
    const img = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const c = $('photo-canvas'), g = c.getContext('2d');
    c.width = res.width;
    c.height = res.height;
    g.drawImage(img, 0, 0, res.width, res.height);
    g.lineWidth = Math.max(2, res.width / 300);
    g.font = Math.max(14, res.width / 40) + 'px system-ui, sans-serif';
    const list = $('photo-names');
    list.textContent = '';
    for (const f of res.faces) {
      const label = (f.name || 'unknown') + ' ' + f.distance.toFixed(2);
      g.strokeStyle = g.fillStyle = f.name ? '#4caf50' : '#f44336';
      g.strokeRect(f.box[0], f.box[1], f.box[2] - f.box[0], f.box[3] - f.box[1]);
      g.fillText(label, f.box[0], Math.max(16, f.box[1] - 6));
      const li = document.createElement('li');
      li.textContent = label;
      list.appendChild(li);
    }
    showError('');
  } catch (e) { showError(e.message); }
});
