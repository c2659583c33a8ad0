#!/usr/bin/env node
// The README's "main job": a whole local lode workflow on a generated sample
// dataset, run through the real CLI binary so what you see is what a user gets.
// Usage: npm run demo [-- DIR]   (default: a fresh temp directory, kept for you to explore)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const lode = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'lode.js');
const dir = process.argv[2] ? path.resolve(process.argv[2]) : fs.mkdtempSync(path.join(os.tmpdir(), 'lode-demo-'));
fs.mkdirSync(dir, { recursive: true });

function step(title, args, { allowFail = false } = {}) {
  console.log(`\n\x1b[1m$ lode ${args.join(' ')}\x1b[0m   # ${title}`);
  const r = spawnSync(process.execPath, [lode, ...args], { cwd: dir, stdio: 'inherit', env: { ...process.env } });
  if (r.status !== 0 && !allowFail) {
    console.error(`demo: \`lode ${args.join(' ')}\` exited with ${r.status}`);
    process.exit(1);
  }
  return r.status;
}

function write(rel, data) {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

// A small image-classification dataset: one folder per class, a labels table, and one big file.
const classes = ['cat', 'dog', 'bird'];
const rows = ['id,file,label,width,height'];
let id = 0;
for (const c of classes) {
  for (let i = 0; i < 40; i++) {
    const name = `images/${c}/${c}_${String(i).padStart(3, '0')}.jpg`;
    write(`data/${name}`, randomBytes(2048 + ((i * 97) % 4096)));
    rows.push(`${id++},${name},${c},${640 + ((i * 37) % 5) * 64},${480 + ((i * 11) % 3) * 48}`);
  }
}
write('data/labels.csv', rows.join('\n') + '\n');

// Beside git when git is installed: lode.lock ties each code commit to its data.
const haveGit = spawnSync('git', ['--version']).status === 0;
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'lode demo', GIT_AUTHOR_EMAIL: 'demo@example.com', GIT_COMMITTER_NAME: 'lode demo', GIT_COMMITTER_EMAIL: 'demo@example.com' };
function git(args) {
  console.log(`\n\x1b[1m$ git ${args.join(' ')}\x1b[0m`);
  const r = spawnSync('git', args, { cwd: dir, stdio: 'inherit', env: gitEnv });
  if (r.status !== 0) {
    console.error(`demo: \`git ${args.join(' ')}\` exited with ${r.status}`);
    process.exit(1);
  }
}
if (haveGit) {
  spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  write('train.py', '# trains on data/ (pinned by lode.lock)\nprint("training")\n');
}
write('data/embeddings.bin', randomBytes(12 * 1024 * 1024)); // chunked: several content-defined chunks

console.log(`Sample dataset in ${dir}/data: 120 images in 3 classes, labels.csv, a 12 MiB embeddings file`);
step('create the workspace', ['init']);
step('track the dataset', ['add', 'data']);
step('record version 1', ['commit', '-m', 'raw images and labels']);
step('name it', ['tag', 'v1']);
if (haveGit) {
  git(['add', 'lode.lock', 'train.py', '.gitignore']);
  git(['commit', '-q', '-m', 'train on v1 data']);
}

// Relabel some images, add new ones, drop a few, edit 1 MiB in the middle of the big file.
const labels = fs.readFileSync(path.join(dir, 'data/labels.csv'), 'utf8').replace(/\n$/, '').split('\n');
for (let i = 1; i <= 5; i++) labels[i] = labels[i].replace(/,cat,/, ',dog,');
for (let i = 0; i < 10; i++) {
  write(`data/images/bird/bird_new_${i}.jpg`, randomBytes(3000));
  labels.push(`${id++},images/bird/bird_new_${i}.jpg,bird,800,600`);
}
for (let i = 0; i < 3; i++) {
  fs.rmSync(path.join(dir, `data/images/dog/dog_00${i}.jpg`));
  const at = labels.findIndex((l) => l.includes(`dog_00${i}.jpg`));
  labels.splice(at, 1);
}
fs.writeFileSync(path.join(dir, 'data/labels.csv'), labels.join('\n') + '\n');
fs.renameSync(path.join(dir, 'data/images/cat/cat_039.jpg'), path.join(dir, 'data/images/cat/cat_best.jpg'));
const fd = fs.openSync(path.join(dir, 'data/embeddings.bin'), 'r+');
fs.writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 6 << 20);
fs.closeSync(fd);

step('what changed on disk?', ['status']);
step('the change, file by file, per directory', ['diff', '--stat']);
step('stage and record version 2', ['commit', '-a', '-m', 'relabel 5 cats, 10 new birds']);
step('history', ['log', '--oneline']);
step('compare the two versions: per class folder, and labels.csv row by row', ['diff', 'v1', 'HEAD', '--stat', '--key', 'id', '--rows', '--limit', '8']);
step('the same as a page with charts', ['diff', 'v1', 'HEAD', '--key', 'id', '--report', 'diff.html']);
if (haveGit) {
  git(['commit', '-q', '-am', 'train on v2 data']);
  step('which code commits pinned which data', ['log', '--git', '--oneline']);
  step('how the data moved between the two code commits', ['diff', 'git:HEAD~1', 'git:HEAD', '--no-tables']);
  git(['checkout', '-q', 'HEAD~1']);
  step("last month's code: bring back its data", ['checkout']);
  console.log(`data/images/bird holds ${fs.readdirSync(path.join(dir, 'data/images/bird')).length} files again (40 in v1)`);
  git(['checkout', '-q', 'main']);
  step("today's code, today's data", ['checkout']);
}
step('go back to version 1', ['checkout', 'v1']);
const back = fs.readdirSync(path.join(dir, 'data/images/bird')).length;
console.log(`data/images/bird now holds ${back} files (40 in v1)`);
step('integrity check of every object', ['fsck']);
step('and return to the latest version', ['checkout', 'main']);
step('clean', ['status']);

// Share it through a directory remote, as a second person would.
const remoteDir = `${dir}-remote`;
step('a directory remote (a NAS mount works the same)', ['remote', 'add', 'share', remoteDir]);
step('send both versions: only packs of what the remote lacks travel', ['push', '--tags']);
const cloneDir = `${dir}-clone`;
console.log(`\n\x1b[1m$ lode clone ${remoteDir} ${cloneDir}\x1b[0m   # another person's workspace`);
const c = spawnSync(process.execPath, [lode, 'clone', remoteDir, cloneDir], { stdio: 'inherit' });
if (c.status !== 0) process.exit(1);
const same = spawnSync('diff', ['-r', path.join(dir, 'data'), path.join(cloneDir, 'data')]);
console.log(same.status === 0 ? 'The clone holds exactly the same data.' : 'demo: the clone differs!');
if (same.status !== 0) process.exit(1);
console.log(`\nDone. Kept for you: ${dir} (workspace${haveGit ? ', a git repository' : ''}), ${remoteDir} (remote), ${cloneDir} (clone).`);
console.log(`Open ${path.join(dir, 'diff.html')} in a browser; try \`cd ${dir} && node ${lode} log\`.`);
