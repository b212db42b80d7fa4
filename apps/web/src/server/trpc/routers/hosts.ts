import { z } from "zod";
import { publicUrl } from "../../auth-request.ts";
import { drainInput } from "../../services/host-admin.ts";
import { hostResourceCounts } from "../../services/host-resources.ts";
import { createJoinTokenInput } from "../../services/join-tokens.ts";
import { statsRangeInput } from "../../services/stats-history.ts";
import { roleProcedure, router } from "../trpc.ts";

const hostId = z.object({ id: z.string().min(1, "a host id is required") });

export const hostsRouter = router({
  list: roleProcedure("read").query(({ ctx }) => ctx.services.hosts.list()),
  get: roleProcedure("read")
    .input(hostId)
    .query(({ ctx, input }) => ctx.services.hosts.get(input.id)),
  /** the host's own CPU and memory history (as GET /api/v1/hosts/:id/stats) */
  stats: roleProcedure("read")
    .input(hostId.extend(statsRangeInput.shape))
    .query(({ ctx, input }) => ctx.services.statsHistory.forHost(input.id, input.range)),
  /** counts of its images (stored), networks and volumes (asked of its agent) */
  resources: roleProcedure("read")
    .input(hostId)
    .query(async ({ ctx, input }) => {
      await ctx.services.hosts.get(input.id); // 404 for an unknown host
      return hostResourceCounts(ctx.services.db, ctx.services.hub, input.id);
    }),
  createJoinToken: roleProcedure("hosts.manage")
    .input(createJoinTokenInput.optional())
    .mutation(({ ctx, input }) =>
      ctx.services.joinTokens.create(publicUrl(ctx.req), ctx.actor, input),
    ),
  joinTokens: roleProcedure("hosts.manage").query(({ ctx }) => ctx.services.joinTokens.list()),
  revokeJoinToken: roleProcedure("hosts.manage")
    .input(hostId)
    .mutation(({ ctx, input }) => ctx.services.joinTokens.revoke(input.id, ctx.actor)),
  drain: roleProcedure("hosts.manage")
    .input(hostId.extend(drainInput.shape))
    .mutation(({ ctx, input: { id, ...rest } }) =>
      ctx.services.hostAdmin.drain(id, rest, ctx.actor),
    ),
  undrain: roleProcedure("hosts.manage")
    .input(hostId)
    .mutation(({ ctx, input }) => ctx.services.hostAdmin.undrain(input.id, ctx.actor)),
  remove: roleProcedure("hosts.manage")
    .input(hostId)
    .mutation(({ ctx, input }) => ctx.services.hostAdmin.remove(input.id, ctx.actor)),
});
