import { z } from "zod";
import { CONTAINER_ACTIONS, createContainerInput } from "../../services/containers.ts";
import { statsRangeInput } from "../../services/stats-history.ts";
import { roleProcedure, router } from "../trpc.ts";

const byId = z.object({ id: z.string().min(1, "id is required") });

export const containersRouter = router({
  list: roleProcedure("read")
    .input(z.object({ hostId: z.string().min(1).optional() }).optional())
    .query(({ ctx, input }) => ctx.services.containers.list(input?.hostId)),
  get: roleProcedure("read")
    .input(byId)
    .query(({ ctx, input }) => ctx.services.containers.get(input.id)),
  /** every value masked unless the caller may edit containers (the service decides) */
  env: roleProcedure("read")
    .input(byId)
    .query(({ ctx, input }) => ctx.services.containers.env(input.id, ctx.user.role)),
  stats: roleProcedure("read")
    .input(byId.extend(statsRangeInput.shape))
    .query(({ ctx, input }) => ctx.services.statsHistory.forContainer(input.id, input.range)),
  create: roleProcedure("containers.write")
    .input(createContainerInput)
    .mutation(({ ctx, input }) => ctx.services.containers.create(input, ctx.actor)),
  action: roleProcedure("containers.write")
    .input(byId.extend({ action: z.enum(CONTAINER_ACTIONS) }))
    .mutation(({ ctx, input }) =>
      ctx.services.containers.action(input.id, input.action, ctx.actor),
    ),
  remove: roleProcedure("containers.write")
    .input(byId.extend({ force: z.boolean().optional() }))
    .mutation(({ ctx, input }) =>
      ctx.services.containers.remove(input.id, input.force ?? false, ctx.actor),
    ),
});
