// Subnets the runtimes of this machine have chosen. Host routes show only bridges that are up,
// but a runtime chooses its default subnet when first asked (`network ls`) and makes the bridge
// at the first start: two runtimes on one machine (agents with private runtimes) would choose
// the same one. Each claims what it chooses with a file created exclusively in a directory all
// runtimes share, and chooses again when another live runtime holds it. Claims of a state root
// that no longer uses the subnet (removed, or its runtime gone) are taken over.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatSubnet, parseSubnet, pickSubnet, type Subnet } from "./subnet.js";

/** With the boot, as the bridges go (CORRAL_SUBNET_CLAIMS for tests). */
export const CLAIMS_DIR = "/run/corral-subnets";

/** Whether `root`'s runtime still has a network on `subnet` (its definitions on disk). */
function stillUses(root: string, subnet: string): boolean {
  const dir = join(root, "network");
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json") && !f.endsWith(".ipam.json"))
      .some((f) => {
        try {
          return (
            (JSON.parse(readFileSync(join(dir, f), "utf8")) as { subnet?: string }).subnet ===
            subnet
          );
        } catch {
          return false;
        }
      });
  } catch {
    return false; // the root is gone
  }
}

export class SubnetClaims {
  constructor(
    private readonly root: string,
    private readonly dir = process.env.CORRAL_SUBNET_CLAIMS || CLAIMS_DIR,
  ) {}

  private file(subnet: string): string {
    return join(this.dir, subnet.replace("/", "_"));
  }

  /** Subnets other runtimes hold now (to keep out of an explicit choice's way too). */
  others(): Subnet[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: Subnet[] = [];
    for (const name of names) {
      const subnet = name.replace("_", "/");
      try {
        const owner = readFileSync(join(this.dir, name), "utf8");
        if (owner !== this.root && stillUses(owner, subnet)) out.push(parseSubnet(subnet));
      } catch {
        // released meanwhile, or not a claim
      }
    }
    return out;
  }

  /** A free candidate (pickSubnet's order) that no other runtime holds, claimed for this root. */
  pick(taken: readonly Subnet[]): Subnet {
    const also = this.others();
    for (;;) {
      const subnet = pickSubnet([...taken, ...also]); // throws when none is left
      if (this.claim(formatSubnet(subnet))) return subnet;
      also.push(subnet); // another runtime claimed it between the listing and now
    }
  }

  /** Claims `subnet` for this root; false when another live runtime holds it. */
  claim(subnet: string): boolean {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch {
      return true; // nowhere to claim (not root): host routes are all there is to go by
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.file(subnet), this.root, { flag: "wx", mode: 0o600 });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") return true;
      }
      let owner: string;
      try {
        owner = readFileSync(this.file(subnet), "utf8");
      } catch {
        continue; // released meanwhile: try again
      }
      if (owner === this.root) return true;
      if (stillUses(owner, subnet)) return false;
      rmSync(this.file(subnet), { force: true }); // stale; if two take it over, one wins the wx
    }
    return false;
  }

  release(subnet: string): void {
    try {
      if (readFileSync(this.file(subnet), "utf8") === this.root) rmSync(this.file(subnet));
    } catch {
      // not ours, or not claimed
    }
  }
}
