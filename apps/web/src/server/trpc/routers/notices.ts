import { z } from "zod";
import { markReadInput, noticeListInput } from "../../services/notices.ts";
import { createWebhookInput } from "../../services/webhooks.ts";
import { roleProcedure, router } from "../trpc.ts";

const byId = z.object({ id: z.string().min(1, "id is required") });

export const noticesRouter = router({
  list: roleProcedure("read")
    .input(noticeListInput.optional())
    .query(({ ctx, input }) => ctx.services.notices.list(ctx.user.id, input?.limit ?? 50)),
  // Only the caller's own read cursor changes: anyone who may read the notices may.
  markRead: roleProcedure("read")
    .input(markReadInput)
    .mutation(({ ctx, input }) => ctx.services.notices.markRead(ctx.user.id, input.upTo)),
  webhooks: roleProcedure("webhooks.manage").query(({ ctx }) => ctx.services.webhooks.list()),
  createWebhook: roleProcedure("webhooks.manage")
    .input(createWebhookInput)
    .mutation(({ ctx, input }) => ctx.services.webhooks.create(input, ctx.actor)),
  removeWebhook: roleProcedure("webhooks.manage")
    .input(byId)
    .mutation(({ ctx, input }) => ctx.services.webhooks.remove(input.id, ctx.actor)),
  testWebhook: roleProcedure("webhooks.manage")
    .input(byId)
    .mutation(({ ctx, input }) => ctx.services.webhooks.test(input.id, ctx.actor)),
});
