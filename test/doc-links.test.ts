/**
 * Every relative link and image in every Markdown file of the repository points at something that
 * exists, and every #anchor at a heading of the file it names. A newcomer follows these links from the
 * README; a moved or renamed document must not leave them dangling. Links to other sites are not
 * fetched (the tests run without a network).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';

const repo = resolve(__dirname, '..');

/** The Markdown files git knows (tracked, or new and not ignored): the ones a clone has. */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], { cwd: repo, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && existsSync(join(repo, f)));
}

export interface LinkRef {
  readonly line: number;
  readonly target: string;
}

/**
 * The link and image targets of a Markdown text: inline `[text](target)` and `![alt](target)`,
 * reference definitions `[name]: target`, and `<img src="...">`. Fenced code blocks and inline code
 * are skipped: a `[x](y)` there is an example, not a link.
 */
export function linkTargets(markdown: string): LinkRef[] {
  const refs: LinkRef[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(raw);
    if (fence !== undefined) {
      if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length) fence = undefined;
      return;
    }
    if (opening) {
      fence = opening[1];
      return;
    }
    const line = raw.replace(/(`+)[^`]*?\1/g, '');
    for (const m of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) refs.push({ line: i + 1, target: m[1] });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/.exec(line);
    if (definition) refs.push({ line: i + 1, target: definition[1] });
    for (const m of line.matchAll(/<img\s[^>]*src="([^"]+)"/g)) refs.push({ line: i + 1, target: m[1] });
  });
  return refs;
}

/** GitHub's anchors for the headings of a Markdown text (lower case, punctuation dropped, spaces to '-', repeats numbered). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const raw of markdown.split('\n')) {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(raw);
    if (fence !== undefined) {
      if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length) fence = undefined;
      continue;
    }
    if (opening) {
      fence = opening[1];
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const text = heading[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** What is wrong with each relative link of `file` (a path relative to `root`); [] when every one resolves. */
export function brokenLinks(root: string, file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const problems: string[] = [];
  for (const { line, target } of linkTargets(text)) {
    // Another site or a mail address: not checked here.
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = decodeURIComponent(pathPart);
    const resolved = path === '' ? join(root, file) : path.startsWith('/') ? join(root, path) : join(root, dirname(file), path);
    const where = `${file}:${line}: ${target}`;
    if (relative(root, normalize(resolved)).startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}: ${relative(root, resolved)} does not exist`);
      continue;
    }
    if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()
      && !headingAnchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) {
      problems.push(`${where}: no heading #${anchor} in ${relative(root, resolved)}`);
    }
  }
  return problems;
}

describe('GIVEN the link checker', () => {
  test('WHEN a text has links, images, definitions and code THEN it finds the targets outside code only', () => {
    const text = [
      'See [the runbook](docs/runbook.md#first-deploy) and ![picture](docs/topology.svg "title").',
      '`[not a link](nowhere.md)` and <img alt="x" src="img/a.png">',
      '```sh',
      '[inside a fence](fenced.md)',
      '```',
      '[ref]: ../BENCHMARKS.md',
    ].join('\n');
    expect(linkTargets(text).map((r) => [r.line, r.target])).toEqual([
      [1, 'docs/runbook.md#first-deploy'], [1, 'docs/topology.svg'], [2, 'img/a.png'], [6, '../BENCHMARKS.md'],
    ]);
  });

  test('WHEN headings have punctuation, code and repeats THEN the anchors are GitHub\'s', () => {
    expect([...headingAnchors('# k8s-ha-edge\n## Your own site, in five steps\n## `npm run lab`: the lab\n## Notes\n## Notes\n')])
      .toEqual(['k8s-ha-edge', 'your-own-site-in-five-steps', 'npm-run-lab-the-lab', 'notes', 'notes-1']);
  });

  test('WHEN a link is resolved from another directory, or names a missing heading THEN it is reported', () => {
    const root = mkdtempSync(join(tmpdir(), 'doc-links-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'BENCHMARKS.md'), '# Benchmarks\n');
      writeFileSync(join(root, 'docs', 'runbook.md'), '# Operator runbook\n## First deploy\n');
      // docs/hosts.md once linked BENCHMARKS.md as if it were beside it, in docs/.
      writeFileSync(join(root, 'docs', 'hosts.md'), [
        '[ok](../BENCHMARKS.md) [ok](runbook.md#first-deploy) [ok](#hosts) [web](https://example.org/x.md)',
        '# Hosts',
        '[broken](BENCHMARKS.md) [no heading](runbook.md#first-deploys) ![missing](topology.svg) [out](../../etc/passwd)',
      ].join('\n'));
      expect(brokenLinks(root, 'docs/hosts.md')).toEqual([
        'docs/hosts.md:3: BENCHMARKS.md: docs/BENCHMARKS.md does not exist',
        'docs/hosts.md:3: runbook.md#first-deploys: no heading #first-deploys in docs/runbook.md',
        'docs/hosts.md:3: topology.svg: docs/topology.svg does not exist',
        'docs/hosts.md:3: ../../etc/passwd: points outside the repository',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('GIVEN every Markdown file of the repository', () => {
  const files = markdownFiles();

  test('THEN there are some (the README among them)', () => {
    expect(files).toContain('README.md');
  });

  test.each(files)('THEN every relative link and image of %s exists', (file) => {
    expect(brokenLinks(repo, file)).toEqual([]);
  });
});
