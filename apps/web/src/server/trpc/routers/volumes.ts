import { z } from "zod";
import { createVolumeInput, pruneVolumesInput, removeVolumeInput } from "../../services/volumes.ts";
import { roleProcedure, router } from "../trpc.ts";

export const volumesRouter = router({
  list: roleProcedure("read")
    .input(z.object({ hostId: z.string().min(1).optional() }).optional())
    .query(({ ctx, input }) => ctx.services.volumes.list(input?.hostId)),
  create: roleProcedure("volumes.write")
    .input(createVolumeInput)
    .mutation(({ ctx, input }) => ctx.services.volumes.create(input, ctx.actor)),
  remove: roleProcedure("volumes.write")
    .input(removeVolumeInput)
    .mutation(({ ctx, input }) => ctx.services.volumes.remove(input, ctx.actor)),
  prune: roleProcedure("volumes.write")
    .input(pruneVolumesInput)
    .mutation(({ ctx, input }) => ctx.services.volumes.prune(input, ctx.actor)),
});
