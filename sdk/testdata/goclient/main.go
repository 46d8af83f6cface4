// A client written against the oapi-codegen output for pgway's test schema (package api, generated next to it).
package main

import (
	"context"
	"fmt"
	"os"

	"sdktest/api"
)

func main() {
	c, err := api.NewClientWithResponses(os.Args[1])
	if err != nil {
		panic(err)
	}
	id, sel := "in.(1,2)", "id,name,price"
	order := "id.desc"
	res, err := c.GetItemsWithResponse(context.Background(), &api.GetItemsParams{Id: &id, Select: &sel, Order: &order})
	if err != nil {
		panic(err)
	}
	if res.JSON200 == nil {
		fmt.Println("status", res.StatusCode(), string(res.Body))
		os.Exit(1)
	}
	for _, it := range *res.JSON200 {
		fmt.Printf("%d %s\n", *it.Id, *it.Name)
	}
}
