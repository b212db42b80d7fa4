import { z } from "zod";
import { pruneImagesInput, pullInput, removeImageInput } from "../../services/images.ts";
import { roleProcedure, router } from "../trpc.ts";

export const imagesRouter = router({
  list: roleProcedure("read")
    .input(z.object({ hostId: z.string().min(1).optional() }).optional())
    .query(({ ctx, input }) => ctx.services.images.list(input?.hostId)),
  pull: roleProcedure("images.write")
    .input(pullInput)
    .mutation(({ ctx, input }) => ctx.services.images.pull(input, ctx.actor)),
  remove: roleProcedure("images.write")
    .input(removeImageInput)
    .mutation(({ ctx, input }) => ctx.services.images.remove(input, ctx.actor)),
  prune: roleProcedure("images.write")
    .input(pruneImagesInput)
    .mutation(({ ctx, input }) => ctx.services.images.prune(input, ctx.actor)),
});
