// Drives facenet serve's page in Debian's chromium (tests/test_serve_browser.sh).
// argv: URL CHROMIUM TMPDIR SHOT_PREFIX PERSON_A PERSON_B PERSON_C
'use strict';
const { chromium } = require('playwright-core');
const [url, exe, tmp, shot, a, b, c] = process.argv.slice(2);
let checks = 0, failures = 0;
function check(ok, msg) { checks++; if (!ok) { failures++; console.log('FAIL: ' + msg); } }

async function browser(y4m) {
  return chromium.launch({
    executablePath: exe, headless: true,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
           '--use-file-for-fake-video-capture=' + y4m, '--no-sandbox'],
  });
}

// Waits until #live-names lists name (known); returns the time it took, or -1.
async function waitName(page, name, ms) {
  const t0 = Date.now();
  try {
    await page.waitForFunction((n) => [...document.querySelectorAll('#live-names li')].some((li) => li.dataset.name === n),
                               name, { timeout: ms, polling: 100 });
    return (Date.now() - t0) / 1000;
  } catch (e) { return -1; }
}

(async () => {
  // 1. live recognition of two people in turn
  let br = await browser(tmp + '/live.y4m');
  let page = await br.newPage();
  page.on('pageerror', (e) => console.log('page error: ' + e.message));
  await page.goto(url);
  await page.click('#cam-start');
  for (const n of [a, b]) {
    const t = await waitName(page, n, 30000);
    check(t >= 0, 'the live page never named ' + n + ' (shown: ' +
          (await page.$$eval('#live-names li', (l) => l.map((x) => x.textContent).join(', '))) + '; error: ' +
          (await page.textContent('#error')) + ')');
    if (t >= 0) console.log('live: ' + n + ' named after ' + t.toFixed(1) + ' s');
    if (n === a) await page.screenshot({ path: shot + '-live.png' });
  }
  console.log('live rate: ' + (await page.textContent('#live-status')));
  await br.close();

  // 2. enrolment from the camera, then live recognition under the new name
  br = await browser(tmp + '/enrol.y4m');
  page = await br.newPage();
  await page.goto(url);
  await page.click('#cam-start');
  const before = await waitName(page, c, 3000);
  check(before < 0, c + ' was named before being enrolled');
  await page.click('nav button[data-tab=enrol]');
  await page.fill('#enrol-name', 'Camera Person');
  await page.click('#enrol-go');
  await page.waitForSelector('#enrol-done', { timeout: 60000 });
  const done = await page.textContent('#enrol-done');
  check(/^[1-9]\d* face\(s\) of Camera Person enrolled/.test(done), 'enrolment: ' + done + ' / ' +
        (await page.$$eval('#enrol-log li', (l) => l.map((x) => x.textContent).join('; '))));
  await page.click('nav button[data-tab=live]');
  const t = await waitName(page, 'Camera Person', 30000);
  check(t >= 0, 'the enrolled person was not named live');
  await page.screenshot({ path: shot + '-enrolled.png' });
  await page.click('nav button[data-tab=gallery]');
  await page.waitForSelector('#people img[src^="data:image/jpeg"]', { timeout: 10000 }).catch(() => null);
  const thumbs = await page.$$eval('#people img[src^="data:image/jpeg"]', (l) => l.length);
  check(thumbs >= 1, 'the gallery shows no thumbnail');
  await br.close();
  console.log(checks + ' checks, ' + failures + ' failed; screenshots ' + shot + '-live.png, ' + shot + '-enrolled.png');
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.log('FAIL: ' + e.stack); process.exit(1); });
