// Resolves Docker's `--user` forms (name, uid, name:group, uid:gid) against a container's
// /etc/passwd and /etc/group, the way runc's libcontainer/user does for Docker.

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const isNumeric = (s: string): boolean => /^[0-9]+$/.test(s);

function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !isNumeric(f[2] ?? "") || !isNumeric(f[3] ?? "")) continue;
    entries.push({ name: f[0] ?? "", uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "/" });
  }
  return entries;
}

function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || !isNumeric(f[2] ?? "")) continue;
    const members = (f[3] ?? "").split(",").filter(Boolean);
    entries.push({ name: f[0] ?? "", gid: Number(f[2]), members });
  }
  return entries;
}

/** `passwd`/`group` are the files' contents, or undefined when the image has none. */
export function resolveUser(
  spec: string,
  passwd: string | undefined,
  group: string | undefined,
): ResolvedUser {
  const [userPart = "", groupPart] = spec.split(":", 2);
  const users = parsePasswd(passwd ?? "");
  const groups = parseGroup(group ?? "");
  let uid = 0;
  let gid = 0;
  let home = "/";
  let name: string | undefined;

  if (userPart === "" && groupPart === undefined) {
    const root = users.find((u) => u.uid === 0);
    return { uid: 0, gid: 0, additionalGids: [], home: root?.home ?? "/root" };
  }
  const byName = users.find((u) => u.name === userPart);
  const byUid = isNumeric(userPart) ? users.find((u) => u.uid === Number(userPart)) : undefined;
  const found = byName ?? byUid;
  if (found) {
    ({ uid, gid, home, name } = found);
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
  } else {
    throw new Error(
      `unable to find user ${userPart}: no matching entries in passwd file (use a uid, or add the user to the image)`,
    );
  }
  if (groupPart !== undefined && groupPart !== "") {
    const g = groups.find((e) => e.name === groupPart);
    if (g) gid = g.gid;
    else if (isNumeric(groupPart)) gid = Number(groupPart);
    else
      throw new Error(
        `unable to find group ${groupPart}: no matching entries in group file (use a gid, or add the group to the image)`,
      );
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new Error(`uid/gid out of range: ${spec}`);
  const additionalGids =
    name === undefined
      ? []
      : groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids, home };
}
