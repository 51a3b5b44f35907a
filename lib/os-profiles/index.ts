import { OsFamily } from '../topology';
import { DEBIAN_PROFILE } from './debian';
import { OsProfile } from './os-profile';
import { RHEL_PROFILE } from './rhel';

export * from './os-profile';
export { DEBIAN_PROFILE, RHEL_PROFILE };

/** Every family's profile; the type makes a new OsFamily without a profile a compile error. */
export const OS_PROFILES: Readonly<Record<OsFamily, OsProfile>> = {
  [OsFamily.DEBIAN]: DEBIAN_PROFILE,
  [OsFamily.RHEL]: RHEL_PROFILE,
};

/** The profile of a host's OS family: the one place a host's family is looked up. */
export function osProfile(host: { readonly osFamily: OsFamily }): OsProfile {
  return OS_PROFILES[host.osFamily];
}
