import { z } from "zod";
import { createUserInput } from "../../services/auth.ts";
import { setRoleInput } from "../../services/users.ts";
import { roleProcedure, router } from "../trpc.ts";

export const usersRouter = router({
  list: roleProcedure("users.manage").query(({ ctx }) => ctx.services.auth.listUsers()),
  create: roleProcedure("users.manage")
    .input(createUserInput)
    .mutation(({ ctx, input }) => ctx.services.auth.createUser(input, ctx.actor)),
  setRole: roleProcedure("users.manage")
    .input(setRoleInput)
    .mutation(({ ctx, input }) => ctx.services.users.setRole(input, ctx.actor)),
  remove: roleProcedure("users.manage")
    .input(z.object({ id: z.string().min(1, "id is required") }))
    .mutation(({ ctx, input }) => ctx.services.users.remove(input.id, ctx.actor)),
});
