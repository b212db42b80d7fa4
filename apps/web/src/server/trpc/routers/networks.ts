import { z } from "zod";
import { createNetworkInput, removeNetworkInput } from "../../services/networks.ts";
import { roleProcedure, router } from "../trpc.ts";

export const networksRouter = router({
  list: roleProcedure("read")
    .input(z.object({ hostId: z.string().min(1).optional() }).optional())
    .query(({ ctx, input }) => ctx.services.networks.list(input?.hostId)),
  create: roleProcedure("networks.write")
    .input(createNetworkInput)
    .mutation(({ ctx, input }) => ctx.services.networks.create(input, ctx.actor)),
  remove: roleProcedure("networks.write")
    .input(removeNetworkInput)
    .mutation(({ ctx, input }) => ctx.services.networks.remove(input, ctx.actor)),
});
