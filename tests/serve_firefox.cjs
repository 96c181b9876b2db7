// Drives facenet serve's page in Debian's firefox-esr over WebDriver BiDi
// (tests/test_serve_firefox.sh).  argv: URL FIREFOX FRAMES.json SHOT_PREFIX PERSON_A PERSON_B PERSON_C
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');
const [url, exe, framesPath, shot, a, b, c] = process.argv.slice(2);
const frames = JSON.parse(fs.readFileSync(framesPath, 'utf8'));
const SECONDS_EACH = 4;
let checks = 0, failures = 0;
function check(ok, msg) { checks++; if (!ok) { failures++; console.log('FAIL: ' + msg); } }

// Runs in the page before its own scripts: Firefox's camera is replaced by a
// canvas stream playing the test's frames, SECONDS_EACH seconds each, looped.
function fakeCamera(frames, secondsEach) {
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const imgs = await Promise.all(frames.map((src) => new Promise((res, rej) => {
      const im = new Image();
      im.onload = () => res(im);
      im.onerror = () => rej(new Error('a test frame did not decode'));
      im.src = src;
    })));
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d');
    const t0 = performance.now();
    const draw = () => {
      const k = Math.floor((performance.now() - t0) / 1000 / secondsEach) % imgs.length;
      g.drawImage(imgs[k], 0, 0, 640, 480);
    };
    draw();
    setInterval(draw, 100);
    window.__fakeCamera = true;
    return canvas.captureStream(10);
  };
}

// Waits until #live-names lists name; returns the seconds it took, or -1.
async function waitName(page, name, ms) {
  const t0 = Date.now();
  try {
    await page.waitForFunction((n) => [...document.querySelectorAll('#live-names li')].some((li) => li.dataset.name === n),
                               { timeout: ms, polling: 100 }, name);
    return (Date.now() - t0) / 1000;
  } catch (e) { return -1; }
}

(async () => {
  const br = await puppeteer.launch({
    browser: 'firefox', executablePath: exe, headless: true,
    extraPrefsFirefox: { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true,
                         'media.autoplay.default': 0 },
  });
  console.log('browser: ' + (await br.version()));
  const page = await br.newPage();
  page.on('pageerror', (e) => console.log('page error: ' + e.message));
  await page.evaluateOnNewDocument(fakeCamera, frames.live, SECONDS_EACH);
  await page.goto(url);
  // every name the page shows, to check no one else is ever named
  await page.evaluate(() => {
    window.__seen = [];
    const list = document.getElementById('live-names');
    new MutationObserver(() => list.querySelectorAll('li').forEach((li) => {
      if (li.dataset.name && !window.__seen.includes(li.dataset.name)) window.__seen.push(li.dataset.name);
    })).observe(list, { childList: true });
  });
  await page.click('#cam-start');
  for (const n of [a, b]) {
    const t = await waitName(page, n, 40000);
    check(t >= 0, 'the live page in Firefox never named ' + n + ' (shown: ' +
          (await page.$$eval('#live-names li', (l) => l.map((x) => x.textContent).join(', '))) + '; error: ' +
          (await page.$eval('#error', (e) => e.textContent)) + '; fake camera used: ' +
          (await page.evaluate(() => !!window.__fakeCamera)) + ')');
    if (t >= 0) console.log('live: ' + n + ' named after ' + t.toFixed(1) + ' s');
    if (n === a) await page.screenshot({ path: shot + '-live.png' });
  }
  const seen = await page.evaluate(() => window.__seen);
  check(seen.every((n) => n === a || n === b), 'Firefox showed a name that is not on camera: ' + seen.join(', '));
  console.log('live rate: ' + (await page.$eval('#live-status', (e) => e.textContent)));
  await page.close();

  // 2. enrolment from the camera, then live recognition under the new name
  const p2 = await br.newPage();
  p2.on('pageerror', (e) => console.log('page error: ' + e.message));
  await p2.evaluateOnNewDocument(fakeCamera, frames.enrol, SECONDS_EACH);
  await p2.goto(url);
  await p2.click('#cam-start');
  check(await waitName(p2, c, 3000) < 0, c + ' was named before being enrolled');
  await p2.click('nav button[data-tab=enrol]');
  await p2.type('#enrol-name', 'Camera Person');
  await p2.click('#enrol-go');
  await p2.waitForSelector('#enrol-done', { timeout: 60000 });
  const done = await p2.$eval('#enrol-done', (e) => e.textContent);
  check(/^[1-9]\d* face\(s\) of Camera Person enrolled/.test(done), 'enrolment in Firefox: ' + done);
  await p2.click('nav button[data-tab=live]');
  const t = await waitName(p2, 'Camera Person', 30000);
  check(t >= 0, 'the person enrolled in Firefox was not named live');
  if (t >= 0) console.log('enrolled from the camera and named live after ' + t.toFixed(1) + ' s');
  await p2.screenshot({ path: shot + '-enrolled.png' });
  await br.close();
  console.log(checks + ' checks, ' + failures + ' failed; screenshots ' + shot + '-live.png, ' + shot + '-enrolled.png');
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.log('FAIL: ' + e.stack); process.exit(1); });
