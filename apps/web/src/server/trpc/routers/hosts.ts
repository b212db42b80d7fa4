import { z } from "zod";
import { publicUrl } from "../../auth-request.ts";
import { roleProcedure, router } from "../trpc.ts";

export const hostsRouter = router({
  list: roleProcedure("read").query(({ ctx }) => ctx.services.hosts.list()),
  get: roleProcedure("read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => ctx.services.hosts.get(input.id)),
  createJoinToken: roleProcedure("hosts.manage").mutation(({ ctx }) =>
    ctx.services.hosts.createJoinToken(publicUrl(ctx.req), ctx.actor),
  ),
});
