import { listEventsInput } from "../../services/events.ts";
import { roleProcedure, router } from "../trpc.ts";

export const eventsRouter = router({
  list: roleProcedure("read")
    .input(listEventsInput.optional())
    .query(({ ctx, input }) => ctx.services.events.list(input ?? {})),
});
