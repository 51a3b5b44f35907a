import { parseArgs, ParseArgsConfig } from 'node:util';
import { ProvisionerResource } from './topology';

export interface SynthArgs {
  readonly configPath?: string;
  readonly resource?: ProvisionerResource;
  readonly distDir?: string;
  readonly cdktfOutDir?: string;
  readonly help: boolean;
}

export const USAGE = `usage: npm run synth -- [--config FILE] [--resource null_resource|terraform_data]
                          [--dist DIR] [--cdktf-out DIR] [--only k8s|tf]

  --config FILE     YAML or JSON file deep-merged over the default topology (lists replace)
  --resource R      Terraform resource that carries the provisioners (default null_resource;
                    terraform_data needs no provider download)
  --dist DIR        Kubernetes manifests and per-host files (default dist)
  --cdktf-out DIR   Terraform stacks (default cdktf.out)
  --only k8s|tf     write only dist/ (k8s) or only cdktf.out/ (tf)

Run by the cdk8s or cdktf CLI, CDK8S_OUTDIR or CDKTF_OUTDIR selects the one output it asks for.`;

/** A command-line mistake, reported like a topology error: what, got, expected. */
export class UsageError extends Error {}

/**
 * Parses synth's flags. Unknown flags are errors, not silently ignored.
 *
 * node:util's parseArgs (strict) reads them; when it refuses them, the same arguments are read again
 * without strict only to say what was wrong in synth's words (its own messages name neither the
 * value nor what was expected). As before, a flag's value is the next argument: `--config=a.yaml`
 * is an unknown argument, and a value may start with one dash.
 */
/** The arguments as node:util parseArgs' tokens: read strictly, or, when that refuses them, read again leniently so the caller can say what was wrong in its own words. */
export function argumentTokens(argv: readonly string[], options: ParseArgsConfig['options']): NonNullable<ReturnType<typeof parseArgs>['tokens']> {
  const config = { args: [...argv], options, tokens: true } as const;
  try {
    return parseArgs({ ...config, strict: true, allowPositionals: false }).tokens;
  } catch (error) {
    // Told by the code, not `instanceof TypeError` (under jest, node's TypeError is another realm's).
    if (!(typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'))) throw error;
    return parseArgs({ ...config, strict: false, allowPositionals: true }).tokens;
  }
}

export function parseSynthArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SynthArgs {
  const valueFlags = ['--config', '--dist', '--cdktf-out', '--resource', '--only'];
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const flag of valueFlags) options[flag.slice(2)] = { type: 'string' };
  // A word that is not a flag becomes a positional token, refused below as an unknown argument.
  const tokens = argumentTokens(argv, options);

  let configPath: string | undefined;
  let resource: ProvisionerResource | undefined;
  let distDir: string | undefined = 'dist';
  let cdktfOutDir: string | undefined = 'cdktf.out';
  let help = false;

  // A flag given twice is refused, not resolved by "the last one wins": `--only k8s --only tf`
  // would otherwise write nothing and still say "synthesized", and two --config files would
  // silently drop the first.
  const seen = new Map<string, string>();
  for (const token of tokens) {
    const arg = argv[token.index];
    const flag = token.kind === 'option' ? token.rawName : arg;
    if (token.kind !== 'option' || token.inlineValue || !(flag === '-h' || flag === '--help' || valueFlags.includes(flag))) {
      throw new UsageError(`unknown argument: got ${JSON.stringify(arg)}, expected one of --config, --resource, --dist, --cdktf-out, --only, --help`);
    }
    if (flag === '-h' || flag === '--help') {
      help = true;
      continue;
    }
    const first = seen.get(flag);
    if (first !== undefined) {
      throw new UsageError(`${flag}: got ${JSON.stringify(token.value ?? '')} after ${first} already, expected ${flag} at most once`);
    }
    seen.set(flag, `${flag} ${JSON.stringify(token.value ?? '')}`);
    const value = token.value;
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag}: got nothing, expected a value`);
    if (value.trim() === '') throw new UsageError(`${flag}: got ${JSON.stringify(value)}, expected a non-empty value`);
    switch (flag) {
      case '--config': configPath = value; break;
      case '--dist': distDir = value; break;
      case '--cdktf-out': cdktfOutDir = value; break;
      case '--resource': {
        const known = Object.values(ProvisionerResource) as string[];
        if (!known.includes(value)) throw new UsageError(`--resource: got ${JSON.stringify(value)}, expected one of ${known.join(', ')}`);
        resource = value as ProvisionerResource;
        break;
      }
      case '--only': {
        if (value === 'k8s') cdktfOutDir = undefined;
        else if (value === 'tf') distDir = undefined;
        else throw new UsageError(`--only: got ${JSON.stringify(value)}, expected k8s or tf`);
        break;
      }
    }
  }
  // The cdk8s and cdktf CLIs say where they want their output, and only that output.
  if (env.CDK8S_OUTDIR) {
    distDir = env.CDK8S_OUTDIR;
    cdktfOutDir = undefined;
  } else if (env.CDKTF_OUTDIR) {
    cdktfOutDir = env.CDKTF_OUTDIR;
    distDir = undefined;
  }
  return { configPath, resource, distDir, cdktfOutDir, help };
}
