import type { NextConfig } from "next";

const config: NextConfig = {
  // Prisma's client and libsql load native/bundled code at run time: keep them out of the bundle.
  serverExternalPackages: [
    "@prisma/client",
    "@prisma/adapter-libsql",
    "@libsql/client",
    "@prisma/adapter-pg",
    "pg",
  ],
  poweredByHeader: false,
};

export default config;
