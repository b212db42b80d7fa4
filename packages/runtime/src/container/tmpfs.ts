// `--tmpfs /path[:options]` as Docker mounts it: noexec, nosuid and nodev unless the options say
// otherwise (`exec`), the kernel's size default (half of RAM) and root mode (1777) unless given.
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "../syscall/index.js";

/** Flags the options may turn on or off; nosuid and nodev stay on whatever they say. */
const FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS_RDONLY },
  rw: { clear: MS_RDONLY },
  exec: { clear: MS_NOEXEC },
  noexec: { set: MS_NOEXEC },
  nosuid: {},
  nodev: {},
};

/** Options handed to the tmpfs itself, as mount(8) spells them. */
const DATA_OPTION =
  /^(size=[0-9]+[kmgKMG%]?|mode=[0-7]{3,4}|uid=[0-9]+|gid=[0-9]+|nr_inodes=[0-9]+[kmgKMG]?)$/;

export interface TmpfsMount {
  flags: number;
  /** the mount's data argument: size, mode, uid, gid, nr_inodes */
  data: string;
}

/** Splits a tmpfs option list into mount flags and data; throws on anything else, in one line. */
export function tmpfsMount(options: string): TmpfsMount {
  let flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const data: string[] = [];
  for (const option of options.split(",").filter(Boolean)) {
    const flag = FLAG_OPTIONS[option];
    if (flag !== undefined) {
      flags = (flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    } else if (DATA_OPTION.test(option)) {
      data.push(option);
    } else {
      throw new Error(
        `invalid tmpfs option "${option}": use size=, mode=, uid=, gid=, nr_inodes=, ro, rw, exec, noexec`,
      );
    }
  }
  return { flags, data: data.join(",") };
}
