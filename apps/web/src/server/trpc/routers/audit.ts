import { auditQueryInput } from "../../services/audit.ts";
import { roleProcedure, router } from "../trpc.ts";

export const auditRouter = router({
  list: roleProcedure("audit.read")
    .input(auditQueryInput.optional())
    .query(({ ctx, input }) => ctx.services.audit.list(input ?? {})),
});
