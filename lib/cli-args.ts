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

/** Parses synth's flags. Unknown flags are errors, not silently ignored. */
export function parseSynthArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SynthArgs {
  let configPath: string | undefined;
  let resource: ProvisionerResource | undefined;
  let distDir: string | undefined = 'dist';
  let cdktfOutDir: string | undefined = 'cdktf.out';
  let help = false;

  const valueOf = (flag: string, i: number): string => {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag}: got nothing, expected a value`);
    if (value.trim() === '') throw new UsageError(`${flag}: got ${JSON.stringify(value)}, expected a non-empty value`);
    return value;
  };
  // A flag given twice is refused, not resolved by "the last one wins": `--only k8s --only tf`
  // would otherwise write nothing and still say "synthesized", and two --config files would
  // silently drop the first.
  const seen = new Map<string, string>();
  const once = (flag: string, canonical: string, i: number) => {
    const first = seen.get(canonical);
    if (first !== undefined) {
      throw new UsageError(`${flag}: got ${JSON.stringify(argv[i + 1] ?? '')} after ${first} already, expected ${canonical} at most once`);
    }
    seen.set(canonical, `${flag} ${JSON.stringify(argv[i + 1] ?? '')}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (['--config', '--dist', '--cdktf-out', '--resource', '--only'].includes(flag)) once(flag, flag, i);
    switch (flag) {
      case '--config': configPath = valueOf(flag, i++); break;
      case '--dist': distDir = valueOf(flag, i++); break;
      case '--cdktf-out': cdktfOutDir = valueOf(flag, i++); break;
      case '--resource': {
        const value = valueOf(flag, i++);
        const known = Object.values(ProvisionerResource) as string[];
        if (!known.includes(value)) throw new UsageError(`--resource: got ${JSON.stringify(value)}, expected one of ${known.join(', ')}`);
        resource = value as ProvisionerResource;
        break;
      }
      case '--only': {
        const value = valueOf(flag, i++);
        if (value === 'k8s') cdktfOutDir = undefined;
        else if (value === 'tf') distDir = undefined;
        else throw new UsageError(`--only: got ${JSON.stringify(value)}, expected k8s or tf`);
        break;
      }
      case '-h':
      case '--help': help = true; break;
      default: throw new UsageError(`unknown argument: got ${JSON.stringify(flag)}, expected one of --config, --resource, --dist, --cdktf-out, --only, --help`);
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
