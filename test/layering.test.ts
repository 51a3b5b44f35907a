/**
 * The direction of imports: data flows one way (topology → component models → printers → the plan of
 * bundles → constructs), and each folder imports only from below it. A component (lib/gateway,
 * lib/load-balancer, ...) builds its bundles with lib/plan's vocabulary; what gathers every component
 * (lib/site-plan.ts) sits above them. lab/, validate/ and lib/ do not import sideways from each other.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');

/** Every .ts file under `dir` (relative to the repository), and the relative paths it imports. */
function importsUnder(dir: string): Array<{ file: string; imports: string[] }> {
  const out: Array<{ file: string; imports: string[] }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const imports = [...text.matchAll(/^import [^;]*? from '(\.[^']+)'/gm)].map((m) => relative(root, join(d, m[1])));
        out.push({ file: relative(root, path), imports });
      }
    }
  };
  walk(join(root, dir));
  return out;
}

const COMPONENTS = ['lib/client', 'lib/gateway', 'lib/kubernetes', 'lib/load-balancer', 'lib/diagram'];

test('lib/plan (the bundle vocabulary every component uses) imports no component', () => {
  const back = importsUnder('lib/plan').flatMap(({ file, imports }) => imports.filter((i) => COMPONENTS.some((c) => i.startsWith(`${c}/`))).map((i) => `${file} → ${i}`));
  expect(back).toEqual([]);
});

test('lib/topology (the bottom: config, schema, resolved topology) imports nothing above it', () => {
  const up = importsUnder('lib/topology').flatMap(({ file, imports }) => imports.filter((i) => i.startsWith('lib/') && !i.startsWith('lib/topology') && !i.startsWith('lib/kernel')).map((i) => `${file} → ${i}`));
  expect(up).toEqual([]);
});

test('lib/ imports nothing from lab/, validate/, ops/, bench/ or test/; lab/ and validate/ not from each other', () => {
  const outside = (dir: string, banned: string[]) => importsUnder(dir).flatMap(({ file, imports }) => imports.filter((i) => banned.some((b) => i.startsWith(`${b}/`))).map((i) => `${file} → ${i}`));
  expect(outside('lib', ['lab', 'validate', 'ops', 'bench', 'test'])).toEqual([]);
  expect(outside('lab', ['validate'])).toEqual([]);
  expect(outside('validate', ['lab'])).toEqual([]);
});
