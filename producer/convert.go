package producer

import (
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

func userEntity(u confluence.User) schema.User {
	return schema.User{
		AccountID:     u.AccountID,
		AccountType:   u.AccountType,
		AccountStatus: u.AccountStatus,
		DisplayName:   u.DisplayName,
		PublicName:    u.PublicName,
		Email:         u.Email,
		TimeZone:      u.TimeZone,
	}
}

func spaceEntity(s confluence.Space) schema.Space {
	return schema.Space{
		ID:          s.ID,
		Key:         s.Key,
		Name:        s.Name,
		Type:        s.Type,
		Status:      s.Status,
		Description: s.Description,
		HomepageID:  s.HomepageID,
		AuthorID:    s.AuthorID,
		CreatedAt:   s.CreatedAt,
		WebURL:      s.WebURL,
	}
}

func pageEntity(p confluence.Page) schema.Page {
	return schema.Page{
		ID:        p.ID,
		Kind:      p.Kind,
		SpaceID:   p.SpaceID,
		Status:    p.Status,
		Title:     p.Title,
		ParentID:  p.ParentID,
		AuthorID:  p.AuthorID,
		OwnerID:   p.OwnerID,
		CreatedAt: p.CreatedAt,
		Version: schema.PageVersion{
			Number:    p.Version.Number,
			CreatedAt: p.Version.CreatedAt,
			AuthorID:  p.Version.AuthorID,
			Message:   p.Version.Message,
			MinorEdit: p.Version.MinorEdit,
		},
		WebURL:     p.WebURL,
		BodyFormat: "storage",
		Body:       p.Body,
	}
}

// accountIDs returns the accounts a page names: author, owner, version author.
func accountIDs(p confluence.Page) []string {
	return []string{p.AuthorID, p.OwnerID, p.Version.AuthorID}
}
