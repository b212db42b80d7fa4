import { TokensPage } from "../../../src/client/TokensPage.tsx";

export const metadata = { title: "API tokens · Corral" };

export default function Page() {
  return <TokensPage />;
}
